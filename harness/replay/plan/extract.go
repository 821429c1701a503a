package plan

import (
	"bytes"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// maxBodyScan caps how much of one decoded body or message is scanned, so
// a compression bomb or a huge download costs bounded time and memory.
const maxBodyScan = 1 << 20

// Part names where in an exchange a value sits.
type Part string

// Parts of a request or response that carry values.
const (
	PartPath      Part = "path"       // request path; Path is empty
	PartQuery     Part = "query"      // Path: parameter name
	PartHeader    Part = "header"     // Path: header name
	PartCookie    Part = "cookie"     // Path: cookie name
	PartForm      Part = "form"       // Path: form field name
	PartJSON      Part = "json"       // Path: "$.a.b[2]"
	PartLocation  Part = "location"   // Path: header name (Location, Content-Location)
	PartETag      Part = "etag"       // Path is empty
	PartSetCookie Part = "set-cookie" // Path: cookie name
	PartGRPC      Part = "grpc"       // Path: "[message index].field.path"
	PartWebSocket Part = "ws"         // Path: "[frame index]$.json.path"
)

// Location says where a value sits in a request or a response.
type Location struct {
	Part Part   `json:"part"`
	Path string `json:"path,omitempty"`
}

func (l Location) String() string {
	if l.Path == "" {
		return string(l.Part)
	}
	return string(l.Part) + ":" + l.Path
}

// occ is one occurrence of an interned value at an interned location. at is
// when a response value became visible (unused for requests).
type occ struct {
	val, loc uint32
	at       int64
}

// reqOcc is a request's occurrence: its time is the node's start.
type reqOcc struct{ val, loc uint32 }

// skippedRequestHeaders never carry issued values, and scanning them would
// only fill the index with user agents and media types.
var skippedRequestHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "user-agent": true,
	"accept": true, "accept-encoding": true, "accept-language": true, "connection": true,
	"te": true, "date": true, "content-encoding": true, "grpc-timeout": true,
	"grpc-encoding": true, "grpc-accept-encoding": true, "cookie": true,
}

// extractor collects the occurrences of one exchange into the index.
type extractor struct {
	ix   *index
	out  []occ
	at   int64
	seen map[uint64]struct{}
	id   *identScan // set while a request is scanned
	// moot, when set, tells a value whose occurrence at x.at cannot
	// matter (a response value some earlier response issued): it is not
	// kept, and its location is not worked out.
	moot func(v uint32) bool

	walker jsonWalker
}

func (x *extractor) reset(at int64) {
	x.out = x.out[:0]
	x.at = at
	clear(x.seen)
}

// add offers every token of s at loc.
func (x *extractor) add(loc Location, s string) {
	if x.id != nil {
		x.id.offer(loc, s)
	}
	x.addTokens(s, func() Location { return loc })
}

// addLeaf offers every token of the JSON leaf s under the containers st.
func (x *extractor) addLeaf(st []jsonFrame, at func(path string) Location, s string) {
	x.addTokens(s, func() Location { return at(jsonPath(st)) })
}

// addTokens pushes every kept token of s, working its location out (for a
// JSON leaf, the path string built and interned) only once a token is
// kept: most leaves of a large recording's responses repeat values an
// earlier response issued.
func (x *extractor) addTokens(s string, loc func() Location) {
	var l uint32
	have := false
	tokens(s, func(t string) {
		if v, ok := x.kept(t); ok {
			if !have {
				l, have = x.ix.location(loc()), true
			}
			x.push(v, l)
		}
	})
}

// kept interns token t when it is a candidate whose occurrence matters.
func (x *extractor) kept(t string) (uint32, bool) {
	if !x.ix.rule.candidate(t) {
		return 0, false
	}
	v, ok := x.ix.value(t)
	if !ok || (x.moot != nil && x.moot(v)) {
		return 0, false
	}
	return v, true
}

// addRaw offers binary bytes whole: they can only match other raw bytes.
func (x *extractor) addRaw(loc Location, b []byte) {
	if len(b) < x.ix.rule.minLen || len(b) > x.ix.rule.maxLen {
		return
	}
	if v, ok := x.ix.valueBytes(b); ok {
		x.push(v, x.ix.location(loc))
	}
}

func (x *extractor) push(v, l uint32) {
	k := uint64(v)<<32 | uint64(l)
	if _, dup := x.seen[k]; dup {
		return
	}
	x.seen[k] = struct{}{}
	x.out = append(x.out, occ{val: v, loc: l, at: x.at})
}

// request collects the values a request carries.
func (x *extractor) request(ex *rprpb.Exchange) {
	req := ex.GetRequest()
	if req != nil && ex.GetGrpc() == nil {
		x.add(Location{Part: PartPath}, req.GetPath())
		x.query(PartQuery, req.GetRawQuery())
	}
	for _, h := range req.GetHeaders() {
		name := h.GetName()
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, v := range h.GetValues() {
				x.cookies(v)
			}
			continue
		}
		if skippedRequestHeaders[lower] || strings.HasPrefix(lower, ":") {
			continue
		}
		for _, v := range h.GetValues() {
			x.add(Location{Part: PartHeader, Path: name}, v)
		}
	}
	if body := decodedBody(req.GetBody(), req.GetHeaders()); len(body) > 0 {
		ct := headerValue(req.GetHeaders(), "content-type")
		if strings.Contains(ct, "x-www-form-urlencoded") {
			x.query(PartForm, string(body))
		} else {
			x.json(body, func(p string) Location { return Location{Part: PartJSON, Path: p} })
		}
	}
	x.messages(ex, rprpb.Direction_DIRECTION_REQUEST, req.GetHeaders())
}

// response collects the values a response issues, each visible from the
// time the exchange ended (or, for streams, the message arrived).
func (x *extractor) response(ex *rprpb.Exchange) {
	resp := ex.GetResponse()
	for _, h := range resp.GetHeaders() {
		name := h.GetName()
		switch strings.ToLower(name) {
		case "location", "content-location":
			for _, v := range h.GetValues() {
				x.add(Location{Part: PartLocation, Path: name}, v)
			}
		case "etag":
			for _, v := range h.GetValues() {
				x.add(Location{Part: PartETag}, v)
			}
		case "set-cookie":
			for _, v := range h.GetValues() {
				pair, _, _ := strings.Cut(v, ";")
				if k, val, ok := strings.Cut(strings.TrimSpace(pair), "="); ok {
					x.add(Location{Part: PartSetCookie, Path: k}, val)
				}
			}
		}
	}
	if body := decodedBody(resp.GetBody(), resp.GetHeaders()); len(body) > 0 {
		x.json(body, func(p string) Location { return Location{Part: PartJSON, Path: p} })
	}
	x.messages(ex, rprpb.Direction_DIRECTION_RESPONSE, resp.GetHeaders())
}

func (x *extractor) cookies(v string) {
	for pair := range strings.SplitSeq(v, ";") {
		if k, val, ok := strings.Cut(strings.TrimSpace(pair), "="); ok {
			x.add(Location{Part: PartCookie, Path: k}, val)
		}
	}
}

func (x *extractor) query(part Part, raw string) {
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if v != "" {
			x.add(Location{Part: part, Path: k}, v)
		}
	}
}

// messages scans gRPC messages and WebSocket text frames of one direction.
func (x *extractor) messages(ex *rprpb.Exchange, dir rprpb.Direction, hdrs []*rprpb.Header) {
	var msgs []*rprpb.Message
	grpc := ex.GetGrpc() != nil
	if grpc {
		msgs = ex.GetGrpc().GetMessages()
	} else {
		msgs = ex.GetWebsocket().GetMessages()
	}
	base := x.at
	i := -1
	for _, m := range msgs {
		if m.GetDirection() != dir {
			continue
		}
		i++
		if dir == rprpb.Direction_DIRECTION_RESPONSE && m.GetAtNs() > 0 {
			x.at = m.GetAtNs()
		}
		prefix := "[" + strconv.Itoa(i) + "]"
		data := m.GetData()
		if grpc {
			if m.GetCompressed() {
				data = decode(data, headerValue(hdrs, "grpc-encoding"))
			}
			_ = ScanProto(capBytes(data), func(f ProtoField) {
				loc := Location{Part: PartGRPC, Path: prefix + "." + f.Path}
				switch {
				case f.IsVarint:
					if s := strconv.FormatUint(f.Varint, 10); x.ix.rule.candidate(s) {
						x.add(loc, s)
					} else if x.id != nil {
						x.id.offer(loc, s)
					}
				case Printable(f.Bytes):
					x.add(loc, string(f.Bytes))
				default:
					x.addRaw(loc, f.Bytes)
				}
			})
		} else if m.GetOpcode() == 1 {
			x.json(data, func(p string) Location { return Location{Part: PartWebSocket, Path: prefix + p} })
		}
	}
	x.at = base
}

// jsonFrame is one open object or array while walking a document.
type jsonFrame struct {
	array   bool
	index   int
	key     string
	wantKey bool
}

// json offers every string and number leaf of data when it is JSON (or
// NDJSON). A document cut off by the capture cap yields its leading leaves.
func (x *extractor) json(data []byte, at func(path string) Location) {
	data = capBytes(data)
	first := bytes.TrimLeft(data, " \t\r\n")
	if len(first) == 0 || (first[0] != '{' && first[0] != '[') {
		return
	}
	x.walker.walk(first, func(st []jsonFrame, v string, number bool, _, _ int) {
		var may bool
		if number {
			may = x.ix.rule.candidate(v)
		} else {
			may = x.mayMatch(v)
		}
		switch {
		case may && x.id == nil:
			x.addLeaf(st, at, v)
		case may:
			x.add(at(jsonPath(st)), v) // the identity scan wants the location
		case x.id != nil && x.id.wants(st, v):
			x.id.offer(at(jsonPath(st)), v)
		}
	})
}

// mayMatch is a cheap pre-check so that the path string is only built for
// leaves that can yield a candidate.
func (x *extractor) mayMatch(s string) bool {
	return len(s) >= x.ix.rule.minLen || x.ix.rule.candidate(s)
}

func jsonPath(st []jsonFrame) string {
	n := 1
	for _, f := range st {
		if f.array {
			n += 2 + digitsOf(f.index)
		} else {
			n += 1 + len(f.key)
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('$')
	var num [20]byte
	for _, f := range st {
		if f.array {
			b.WriteByte('[')
			b.Write(strconv.AppendInt(num[:0], int64(f.index), 10))
			b.WriteByte(']')
		} else {
			b.WriteByte('.')
			b.WriteString(f.key)
		}
	}
	return b.String()
}

// digitsOf is the length of the decimal form of i >= 0.
func digitsOf(i int) int {
	n := 1
	for ; i >= 10; i /= 10 {
		n++
	}
	return n
}

func headerValue(hs []*rprpb.Header, lowerName string) string {
	for _, h := range hs {
		if strings.EqualFold(h.GetName(), lowerName) && len(h.GetValues()) > 0 {
			return h.GetValues()[0]
		}
	}
	return ""
}

// decodedBody returns the body bytes without content coding, at most
// maxBodyScan of them; nil when the coding is unknown or broken.
func decodedBody(b *rprpb.Body, hs []*rprpb.Header) []byte {
	data := b.GetData()
	if len(data) == 0 {
		return nil
	}
	return decode(data, headerValue(hs, "content-encoding"))
}

func decode(data []byte, coding string) []byte {
	var r io.Reader
	var err error
	switch strings.ToLower(strings.TrimSpace(coding)) {
	case "", "identity":
		return capBytes(data)
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(data))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(data))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxBodyScan*4))
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	// A truncated capture ends the stream early; what decoded so far is
	// still worth scanning.
	out, _ := io.ReadAll(io.LimitReader(r, maxBodyScan))
	return out
}

func capBytes(b []byte) []byte {
	if len(b) > maxBodyScan {
		return b[:maxBodyScan]
	}
	return b
}
