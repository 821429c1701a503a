package replay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
		// The recorded leaf at the path that holds the value (one per
		// document of NDJSON) and the live leaf in the same place.
		recs := jsonLeaves(recBody, loc.Path)
		k := slices.IndexFunc(recs, func(r string) bool { return strings.Contains(r, c.Value) })
		if k < 0 {
			return "", false
		}
		lives := jsonLeaves(live.body, loc.Path)
		if k >= len(lives) {
			return "", false
		}
		return mapToken(c.Value, recs[k], lives[k])
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

// setCookie is the value of the last Set-Cookie for name: a client keeps
// the last one of a response (a session id regenerated, a delete then a
// set).
func setCookie(values []string, name string) (string, bool) {
	for i := len(values) - 1; i >= 0; i-- {
		pair, _, _ := strings.Cut(values[i], ";")
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

// jsonLeaf reads the first scalar at a plan JSON path ("$.a.b[2]") as a
// string.
func jsonLeaf(data []byte, path string) (string, bool) {
	leaves := jsonLeaves(data, path)
	if len(leaves) == 0 {
		return "", false
	}
	return leaves[0], true
}

// jsonLeaves reads the scalars at a plan JSON path, one per document of
// NDJSON, as the planner walks them: a document cut short by the capture
// cap still yields its leading leaves.
func jsonLeaves(data []byte, path string) []string {
	var out []string
	var buf []byte
	plan.WalkJSON(data, func(l *plan.JSONLeaf) {
		if buf = l.AppendPath(buf[:0]); string(buf) == path {
			out = append(out, l.Value)
		}
	})
	return out
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

// sub is a live value to put where a recorded one stands in a request.
type sub struct {
	at        plan.Location
	old, live string
}

// substitute is substituteAll for one value.
func (o *outRequest) substitute(at plan.Location, old, live string) bool {
	return o.substituteAll([]sub{{at: at, old: old, live: live}})[0]
}

// substituteAll puts each live value where its recorded one stands and
// reports, per sub, whether it replaced anything.
//
// A value is replaced where the planner could have found it: as the whole
// leaf or a whole token of the leaf at the sub's location (a JSON string
// or number at its path, a header, cookie, query or form value, the path,
// a gRPC field), never inside a longer token ("123456" in a timestamp
// 1700123456789), and the new leaf is written as that place wants it:
// escaped for the path, the query or a form, a JSON string re-encoded.
// The subs at one location are applied together, in one pass over each
// leaf, so that a live value that happens to be another's recorded value
// (ids shifted or swapped by the target) is not replaced again.
func (o *outRequest) substituteAll(subs []sub) []bool {
	applied := make([]bool, len(subs))
	grouped := make([]bool, len(subs))
	var olds, news []string
	var owner []int
	for i := range subs {
		if grouped[i] {
			continue
		}
		olds, news, owner = olds[:0], news[:0], owner[:0]
		for j := i; j < len(subs); j++ {
			if !grouped[j] && subs[j].at == subs[i].at {
				grouped[j] = true
				olds, news, owner = append(olds, subs[j].old), append(news, subs[j].live), append(owner, j)
			}
		}
		for k, hit := range o.replaceAt(subs[i].at, olds, news) {
			applied[owner[k]] = hit
		}
	}
	return applied
}

// replaceAt replaces olds[i] by news[i] at one location; hit[i] tells
// whether olds[i] was found there.
func (o *outRequest) replaceAt(at plan.Location, olds, news []string) (hit []bool) {
	hit = make([]bool, len(olds))
	switch at.Part {
	case plan.PartPath:
		// The path is kept escaped (as recorded): a live value goes in
		// escaped, and a recorded one may stand there escaped too.
		eo, en, owner := escapedPairs(olds, news, url.PathEscape, escapePathValue)
		h := make([]bool, len(eo))
		o.path, _ = plan.ReplaceTokens(o.path, eo, en, h)
		for k, ok := range h {
			hit[owner[k]] = hit[owner[k]] || ok
		}
	case plan.PartQuery:
		o.rawQuery = replaceQuery(o.rawQuery, at.Path, olds, news, hit)
	case plan.PartForm:
		if o.ensureDecoded() {
			o.body = []byte(replaceQuery(string(o.body), at.Path, olds, news, hit))
		}
	case plan.PartHeader:
		vs := o.header.Values(at.Path) // the map's own slice
		for i, v := range vs {
			vs[i], _ = plan.ReplaceTokens(v, olds, news, hit)
		}
	case plan.PartCookie:
		vs := o.header.Values("Cookie")
		for i, v := range vs {
			vs[i] = replaceCookie(v, at.Path, olds, news, hit)
		}
	case plan.PartJSON:
		if o.ensureDecoded() {
			o.body = replaceJSON(o.body, at.Path, olds, news, hit)
		}
	case plan.PartGRPC:
		o.substituteGRPC(at.Path, olds, news, hit)
	case plan.PartWebSocket:
		if i, path, ok := splitFrameLocation(at.Path); ok && i < len(o.msgs) {
			o.msgs[i].data = replaceJSON(o.msgs[i].data, path, olds, news, hit)
		}
	}
	return hit
}

// escapedPairs is the pairs as a place writes them: each old value and,
// when escape changes it, its escaped form, both to the new value as
// escapeNew writes it there; owner[k] is the pair the k-th came from.
func escapedPairs(olds, news []string, escape func(string) string, escapeNew func(old, new string) string) (eo, en []string, owner []int) {
	for i, old := range olds {
		live := escapeNew(old, news[i])
		eo, en, owner = append(eo, old), append(en, live), append(owner, i)
		if esc := escape(old); esc != old {
			eo, en, owner = append(eo, esc), append(en, live), append(owner, i)
		}
	}
	return eo, en, owner
}

// escapePathValue escapes a live value for the path: a segment's value may
// not bring a '/' in, but one that stood for several segments (a Location
// path) keeps its slashes.
func escapePathValue(old, live string) string {
	if !strings.Contains(old, "/") {
		return url.PathEscape(live)
	}
	segs := strings.Split(live, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// replaceQuery replaces the values in the pairs named key of a query
// string or form body: each value is read unescaped, as the planner read
// it, and a changed one is written back escaped; other pairs keep their
// bytes.
func replaceQuery(raw, key string, olds, news []string, hit []bool) string {
	pairs := strings.Split(raw, "&")
	changed := false
	for i, pair := range pairs {
		k, v, _ := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if k != key {
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if nv, ok := plan.ReplaceTokens(v, olds, news, hit); ok {
			rawKey, _, _ := strings.Cut(pair, "=")
			pairs[i], changed = rawKey+"="+url.QueryEscape(nv), true
		}
	}
	if !changed {
		return raw
	}
	return strings.Join(pairs, "&")
}

// replaceCookie replaces the values of the cookies named name in one
// Cookie header value ("a=1; b=2").
func replaceCookie(header, name string, olds, news []string, hit []bool) string {
	parts := strings.Split(header, ";")
	changed := false
	for i, p := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || k != name {
			continue
		}
		if nv, ok := plan.ReplaceTokens(v, olds, news, hit); ok {
			lead := p[:len(p)-len(strings.TrimLeft(p, " \t"))]
			parts[i], changed = lead+k+"="+nv, true
		}
	}
	if !changed {
		return header
	}
	return strings.Join(parts, ";")
}

// replaceJSON replaces values in the leaves at path of a JSON document
// (each document of NDJSON). A string leaf is matched on its unescaped
// value, however the client escaped it, and a changed one is re-encoded;
// a number leaf is replaced whole, by a number when the new value is one,
// else by a string. Every other byte is kept.
func replaceJSON(doc []byte, path string, olds, news []string, hit []bool) []byte {
	var out []byte
	last := 0
	plan.WalkJSON(doc, func(l *plan.JSONLeaf) {
		if !mayHold(l.Value, l.Number, olds) || l.Path() != path {
			return
		}
		var enc []byte
		if l.Number {
			k := slices.Index(olds, l.Value)
			hit[k] = true
			if news[k] == l.Value {
				return
			}
			if isJSONNumber(news[k]) {
				enc = []byte(news[k])
			} else {
				enc = appendJSONString(nil, news[k])
			}
		} else {
			nv, changed := plan.ReplaceTokens(l.Value, olds, news, hit)
			if !changed {
				return
			}
			enc = appendJSONString(nil, nv)
		}
		out = append(append(out, doc[last:l.Start]...), enc...)
		last = l.End
	})
	if last == 0 {
		return doc
	}
	return append(out, doc[last:]...)
}

// mayHold is a cheap check before a leaf's path is built: a number must be
// one of olds, a string contain one.
func mayHold(v string, number bool, olds []string) bool {
	for _, old := range olds {
		if old != "" && (v == old || !number && strings.Contains(v, old)) {
			return true
		}
	}
	return false
}

func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && json.Valid([]byte(s))
}

// appendJSONString appends s as a JSON string literal, escaping only what
// JSON requires (not HTML's <, > and &, as encoding/json does), invalid
// UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// rewrite applies one of the plan's static rewrites (a clone's identity).
// Unlike a correlated value, an identity can be a short word that also
// starts a longer one ("ann" in "ann@example.com", itself an identity with
// its own rewrite), so only whole tokens are replaced.
func (o *outRequest) rewrite(at plan.Location, old, live string) bool {
	repl := replaceToken
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
		hit := []bool{false}
		o.substituteGRPC(at.Path, []string{old}, []string{live}, hit)
		return hit[0]
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

func replaceEscaped(s, old, live string, repl func(s, old, new string) string) string {
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
	b := appendJSONString(nil, s)
	return b[1 : len(b)-1]
}

// corrTag names a correlation in Result.unresolved without its value, which
// may be a secret: index, use location and a short hash.
func corrTag(i int, c plan.Correlation, at plan.Location) string {
	h := sha256.Sum256([]byte(c.Value))
	return "c" + strconv.Itoa(i) + "@" + at.String() + "#" + hex.EncodeToString(h[:4])
}
