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

// tokenSeps are the separators the planner splits leaves with.
const tokenSeps = "/?&=;, \t\"'#"

func splitTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(tokenSeps, r) })
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
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
	truncated              bool
	decoded                bool
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
	switch at.Part {
	case plan.PartPath:
		o.path = strings.ReplaceAll(o.path, old, live)
		if esc := url.PathEscape(old); esc != old {
			o.path = strings.ReplaceAll(o.path, esc, url.PathEscape(live))
		}
	case plan.PartQuery:
		o.rawQuery = replaceEscaped(o.rawQuery, old, live)
	case plan.PartHeader, plan.PartCookie:
		name := at.Path
		if at.Part == plan.PartCookie {
			name = "Cookie"
		}
		vs := o.header.Values(name)
		for i, v := range vs {
			vs[i] = strings.ReplaceAll(v, old, live)
		}
	case plan.PartForm:
		if !o.ensureDecoded() {
			return false
		}
		o.body = []byte(replaceEscaped(string(o.body), old, live))
	case plan.PartJSON:
		if !o.ensureDecoded() {
			return false
		}
		o.body = bytes.ReplaceAll(o.body, jsonEscape(old), jsonEscape(live))
	default:
		return false
	}
	return true
}

func replaceEscaped(s, old, live string) string {
	s = strings.ReplaceAll(s, old, live)
	if esc := url.QueryEscape(old); esc != old {
		s = strings.ReplaceAll(s, esc, url.QueryEscape(live))
	}
	return s
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
