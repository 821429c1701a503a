package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// use is one place where a node sends a correlated value.
type use struct {
	corr int
	at   plan.Location
}

// liveResponse is what the target answered, as the extractors need it.
type liveResponse struct {
	header http.Header
	body   []byte // content coding removed; nil when unknown
	// msgs are the server's gRPC messages (uncompressed) or WebSocket data
	// frames.
	msgs []*rprpb.Message
}

// liveValue finds, in a replayed response, the value that stands where the
// recorded one stood. The plan located the value as a token inside a leaf
// (a JSON string, a header, a cookie); the live leaf at the same location is
// read and the token at the same position taken from it.
func liveValue(c plan.Correlation, rec *rprpb.Exchange, live liveResponse) (string, bool) {
	resp := rec.GetResponse()
	loc := c.Source.At
	switch loc.Part {
	case plan.PartJSON:
		recBody, ok := decodeBody(resp.GetBody().GetData(), firstHeader(resp.GetHeaders(), "content-encoding"))
		if !ok || live.body == nil {
			return "", false
		}
		r, ok1 := jsonLeaf(recBody, loc.Path)
		l, ok2 := jsonLeaf(live.body, loc.Path)
		if !ok1 || !ok2 {
			return "", false
		}
		return mapToken(c.Value, r, l)
	case plan.PartLocation, plan.PartETag:
		name := loc.Path
		if loc.Part == plan.PartETag {
			name = "ETag"
		}
		return mapHeader(c.Value, headerValues(resp.GetHeaders(), name), live.header.Values(name))
	case plan.PartSetCookie:
		r, ok1 := setCookie(headerValues(resp.GetHeaders(), "Set-Cookie"), loc.Path)
		l, ok2 := setCookie(live.header.Values("Set-Cookie"), loc.Path)
		if !ok1 || !ok2 {
			return "", false
		}
		return mapToken(c.Value, r, l)
	case plan.PartGRPC, plan.PartWebSocket:
		i, ok := liveIndex(c, rec)
		if !ok || i >= len(live.msgs) {
			return "", false
		}
		return liveMessageValue(c, rec, live.msgs[i])
	}
	return "", false
}

func mapHeader(v string, rec, live []string) (string, bool) {
	for i, r := range rec {
		if i < len(live) && strings.Contains(r, v) {
			return mapToken(v, r, live[i])
		}
	}
	return "", false
}

func setCookie(values []string, name string) (string, bool) {
	for _, v := range values {
		pair, _, _ := strings.Cut(v, ";")
		if k, val, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && k == name {
			return val, true
		}
	}
	return "", false
}

func splitTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(plan.TokenSeps, r) })
}

// mapToken maps the token v of the recorded leaf rec onto the live leaf: the
// whole leaf, the same-position token, or what sits between the same prefix
// and suffix ("/v1/orders/" + v).
func mapToken(v, rec, live string) (string, bool) {
	if rec == v {
		return live, live != ""
	}
	rt, lt := splitTokens(rec), splitTokens(live)
	if len(rt) == len(lt) {
		for i, t := range rt {
			if t == v {
				return lt[i], lt[i] != ""
			}
		}
	}
	if i := strings.Index(rec, v); i >= 0 {
		pre, suf := rec[:i], rec[i+len(v):]
		if len(live) > len(pre)+len(suf) && strings.HasPrefix(live, pre) && strings.HasSuffix(live, suf) {
			return live[len(pre) : len(live)-len(suf)], true
		}
	}
	return "", false
}

// jsonLeaf reads the scalar at a plan JSON path ("$.a.b[2]") as a string.
func jsonLeaf(data []byte, path string) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", false
	}
	p, ok := strings.CutPrefix(path, "$")
	if !ok {
		return "", false
	}
	cur := doc
	for p != "" {
		switch p[0] {
		case '.':
			end := strings.IndexAny(p[1:], ".[")
			if end < 0 {
				end = len(p) - 1
			}
			key := p[1 : 1+end]
			p = p[1+end:]
			m, ok := cur.(map[string]any)
			if !ok {
				return "", false
			}
			if cur, ok = m[key]; !ok {
				return "", false
			}
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return "", false
			}
			n, err := strconv.Atoi(p[1:end])
			p = p[end+1:]
			a, ok := cur.([]any)
			if err != nil || !ok || n < 0 || n >= len(a) {
				return "", false
			}
			cur = a[n]
		default:
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// outRequest is a request being rebuilt from a recorded exchange.
type outRequest struct {
	proto                  rprpb.Protocol
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
	truncated              bool
	decoded                bool
	// msgs are the client's gRPC messages or WebSocket frames.
	msgs         []outMsg
	grpcEncoding string
}

// ensureDecoded strips the content coding so a value can be swapped in the
// body; the body then goes out without coding.
func (o *outRequest) ensureDecoded() bool {
	if o.decoded {
		return true
	}
	coding := o.header.Get("Content-Encoding")
	b, ok := decodeBody(o.body, coding)
	if !ok {
		return false
	}
	o.body, o.decoded = b, true
	if coding != "" {
		o.header.Del("Content-Encoding")
	}
	return true
}

// substitute swaps the recorded value old for live at one use location. It
// reports false for locations this driver cannot rewrite.
func (o *outRequest) substitute(at plan.Location, old, live string) bool {
	return o.replace(at, old, live, strings.ReplaceAll)
}

// rewrite applies one of the plan's static rewrites (a clone's identity).
// Unlike a correlated value, an identity can be a short word that also
// starts a longer one ("ann" in "ann@example.com", itself an identity with
// its own rewrite), so only whole tokens are replaced.
func (o *outRequest) rewrite(at plan.Location, old, new string) bool {
	return o.replace(at, old, new, replaceToken)
}

// replaceFunc replaces old by new in s: every occurrence, or whole tokens.
type replaceFunc func(s, old, new string) string

func (o *outRequest) replace(at plan.Location, old, live string, repl replaceFunc) bool {
	switch at.Part {
	case plan.PartPath:
		o.path = repl(o.path, old, live)
		if esc := url.PathEscape(old); esc != old {
			o.path = repl(o.path, esc, url.PathEscape(live))
		}
	case plan.PartQuery:
		o.rawQuery = replaceEscaped(o.rawQuery, old, live, repl)
	case plan.PartHeader, plan.PartCookie:
		name := at.Path
		if at.Part == plan.PartCookie {
			name = "Cookie"
		}
		vs := o.header.Values(name)
		for i, v := range vs {
			vs[i] = repl(v, old, live)
		}
	case plan.PartForm:
		if !o.ensureDecoded() {
			return false
		}
		o.body = []byte(replaceEscaped(string(o.body), old, live, repl))
	case plan.PartJSON:
		if !o.ensureDecoded() {
			return false
		}
		o.body = []byte(repl(string(o.body), string(jsonEscape(old)), string(jsonEscape(live))))
	case plan.PartGRPC:
		return o.substituteGRPC(at.Path, old, live) // rawproto replaces whole leaves or tokens
	case plan.PartWebSocket:
		i, _, ok := splitFrameLocation(at.Path)
		if !ok || i >= len(o.msgs) || !bytes.Contains(o.msgs[i].data, jsonEscape(old)) {
			return false
		}
		o.msgs[i].data = []byte(repl(string(o.msgs[i].data), string(jsonEscape(old)), string(jsonEscape(live))))
	default:
		return false
	}
	return true
}

func replaceEscaped(s, old, live string, repl replaceFunc) string {
	s = repl(s, old, live)
	if esc := url.QueryEscape(old); esc != old {
		s = repl(s, esc, url.QueryEscape(live))
	}
	return s
}

// wordSeps bound a whole token for rewrites: the planner's separators plus
// JSON's punctuation, so that a bare number in a JSON body ("id":12) is a
// token too. '@', '.', '-', '+' and '_' are not separators: they join the
// parts of e-mails and names.
const wordSeps = plan.TokenSeps + ":[]{}"

// replaceToken replaces old by new in s where old stands as a whole token:
// bounded on each side by the string's end or a byte of wordSeps.
func replaceToken(s, old, new string) string {
	if old == "" || !strings.Contains(s, old) {
		return s
	}
	isSep := func(i int) bool { return i < 0 || i >= len(s) || strings.IndexByte(wordSeps, s[i]) >= 0 }
	var b strings.Builder
	done := 0 // s[:done] is written
	for from := 0; ; {
		j := strings.Index(s[from:], old)
		if j < 0 {
			break
		}
		i, end := from+j, from+j+len(old)
		if isSep(i-1) && isSep(end) {
			b.WriteString(s[done:i])
			b.WriteString(new)
			done, from = end, end
			continue
		}
		from = i + 1
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// jsonEscape is s as it appears inside a JSON string token.
func jsonEscape(s string) []byte {
	b, _ := json.Marshal(s)
	return b[1 : len(b)-1]
}

// corrTag names a correlation in Result.unresolved without its value, which
// may be a secret: index, use location and a short hash.
func corrTag(i int, c plan.Correlation, at plan.Location) string {
	h := sha256.Sum256([]byte(c.Value))
	return "c" + strconv.Itoa(i) + "@" + at.String() + "#" + hex.EncodeToString(h[:4])
}
