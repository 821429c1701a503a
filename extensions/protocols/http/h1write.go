package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/reprise-dev/reprise/harness/protocol"
)

// outgoing is a call's request as the direct client writes it: its head
// written by writeHead when uri is set, else req, net/http's Request,
// which Request.Write writes.
//
// Building a Request (its URL parsed, a transfer writer, a sorted copy of
// the header) was about 900 bytes of garbage per request, and what a
// request allocates sets how often the replayer's GC runs. writeHead
// writes the same bytes (TestH1WritesWhatTransportWrote holds both
// clients to them) for the requests it can vouch for without net/url: a
// path and query of plain characters, a valid method, a clean Host.
type outgoing struct {
	method string
	uri    string        // the request-target, for writeHead
	req    *http.Request // nil when writeHead writes the request
}

// defaultUserAgent is net/http's, sent when the call has none.
const defaultUserAgent = "Go-http-client/1.1"

// newlineToSpace and textproto.TrimString clean a header value as
// Request.Write does.
var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// writeHeadSkips are the headers Request.Write writes itself or never.
var writeHeadSkips = map[string]bool{
	"Host": true, "User-Agent": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true,
}

// outgoing prepares the call's request.
func (c *h1Conn) outgoing(ctx context.Context, call *protocol.Call) (outgoing, error) {
	method := call.Method
	if method == "" {
		method = http.MethodGet
	}
	if c.host != "" && method != http.MethodConnect && httpguts.ValidHeaderFieldName(method) {
		if uri, ok := requestURI(c.basePath, call.Path, call.RawQuery); ok {
			return outgoing{method: method, uri: uri}, nil
		}
	}
	req, err := newRequest(ctx, c.prefix, call)
	if err != nil {
		return outgoing{}, err
	}
	return outgoing{method: req.Method, req: req}, nil
}

// cleanHost is the Host header Request.Write sends for a target host,
// "" when it would send another (a zone removed, or none at all). Like
// http.NewRequest, it drops the colon of an empty port.
func cleanHost(host string) string {
	if strings.LastIndex(host, ":") > strings.LastIndex(host, "]") {
		host = strings.TrimSuffix(host, ":")
	}
	h, err := httpguts.PunycodeHostPort(host)
	if err != nil || !httpguts.ValidHostHeader(h) || strings.Contains(h, "%") {
		return ""
	}
	return h
}

// requestURI is the request-target net/url would make of base+path and
// query, when it can tell without parsing: every byte of the path one
// that url.URL.EscapedPath keeps as it is (percent-encodings included),
// every byte of the query printable ASCII other than '#'.
func requestURI(base, path, query string) (string, bool) {
	if !plainPath(base) || !plainPath(path) || !strings.HasPrefix(base+path, "/") {
		return "", false
	}
	for i := range len(query) {
		if b := query[i]; b <= ' ' || b >= 0x7f || b == '#' {
			return "", false
		}
	}
	uri := base + path
	if query != "" {
		uri += "?" + query
	}
	return uri, true
}

// plainPath reports whether every byte of p is kept as it is in a path:
// RFC 3986's unreserved and sub-delims, ':', '@', '/', and '%' starting a
// valid percent-encoding.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/", b) >= 0:
		case b == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// writeHead writes the request's head and body to c.bw as Request.Write
// writes those of newRequest's Request: the request line, Host,
// User-Agent (the call's, none when it is empty, else Go's), the
// Content-Length that net/http's transfer writer would send, then the
// other headers sorted by name, values cleaned of line breaks.
func (c *h1Conn) writeHead(out outgoing, call *protocol.Call) error {
	w := c.bw
	w.WriteString(out.method)
	w.WriteByte(' ')
	w.WriteString(out.uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(c.host)
	w.WriteString("\r\n")
	h := call.Header
	ua := defaultUserAgent
	if vs, ok := h["User-Agent"]; ok {
		ua = ""
		if len(vs) > 0 {
			ua = vs[0]
		}
	}
	if ua != "" {
		writeField(w, "User-Agent", ua)
	}
	// With no body, net/http sends a length only for these methods.
	if n := len(call.Body); n > 0 || out.method == http.MethodPost || out.method == http.MethodPut || out.method == http.MethodPatch {
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(c.num[:0], int64(n), 10))
		w.WriteString("\r\n")
	}
	c.keys = c.keys[:0]
	for k := range h {
		if !writeHeadSkips[k] {
			c.keys = append(c.keys, k)
		}
	}
	slices.Sort(c.keys)
	for _, k := range c.keys {
		for _, v := range h[k] {
			writeField(w, k, v)
		}
	}
	w.WriteString("\r\n")
	_, err := w.Write(call.Body)
	return err
}

// writeField writes one header line, its value cleaned as Request.Write
// cleans it.
func writeField(w io.StringWriter, name, v string) {
	v = textproto.TrimString(newlineToSpace.Replace(v))
	for _, s := range [...]string{name, ": ", v, "\r\n"} {
		_, _ = w.WriteString(s)
	}
}

// resend makes the request ready to be written again (a retry on a fresh
// connection): net/http's Request has read its body.
func (out outgoing) resend(call *protocol.Call) {
	if out.req != nil && len(call.Body) > 0 {
		out.req.Body = io.NopCloser(bytes.NewReader(call.Body))
	}
}
