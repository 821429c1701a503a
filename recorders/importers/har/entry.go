package har

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
)

// The HAR 1.2 subset Reprise reads, with the underscore extensions of Chrome.
type (
	entry struct {
		Pageref           string      `json:"pageref"`
		StartedDateTime   string      `json:"startedDateTime"`
		Time              *float64    `json:"time"`
		Request           request     `json:"request"`
		Response          response    `json:"response"`
		Timings           timings     `json:"timings"`
		Connection        flexString  `json:"connection"`
		ResourceType      string      `json:"_resourceType"`
		Error             string      `json:"_error"`
		WebSocketMessages []wsMessage `json:"_webSocketMessages"`
	}
	request struct {
		Method      string    `json:"method"`
		URL         string    `json:"url"`
		HTTPVersion string    `json:"httpVersion"`
		Headers     []nameVal `json:"headers"`
		Cookies     []nameVal `json:"cookies"`
		PostData    *postData `json:"postData"`
		BodySize    int64     `json:"bodySize"`
	}
	postData struct {
		MimeType string    `json:"mimeType"`
		Text     string    `json:"text"`
		Encoding string    `json:"encoding"` // not HAR 1.2, but Charles writes it
		Params   []nameVal `json:"params"`
	}
	response struct {
		Status      int       `json:"status"`
		HTTPVersion string    `json:"httpVersion"`
		Headers     []nameVal `json:"headers"`
		Content     content   `json:"content"`
	}
	content struct {
		Size     int64   `json:"size"`
		MimeType string  `json:"mimeType"`
		Text     *string `json:"text"`
		Encoding string  `json:"encoding"`
	}
	timings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
	}
	nameVal struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	wsMessage struct {
		Type   string      `json:"type"`
		Time   json.Number `json:"time"` // Unix seconds, to the microsecond
		Opcode int         `json:"opcode"`
		Data   string      `json:"data"`
	}
)

// flexString accepts a JSON string or number: exporters disagree on the type
// of "connection".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n)
	return nil
}

// fieldError is a problem with one field of an entry; path is relative to
// the entry ("request.url").
type fieldError struct {
	path  string
	err   error
	limit bool
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func bad(path, format string, args ...any) error {
	return &fieldError{path: path, err: fmt.Errorf(format, args...)}
}

// Bounds that keep every computed Unix-nanosecond time inside int64.
const (
	maxMillis = 1e11 // ~3 years, for one duration
)

var (
	minTime = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// converted is an entry turned into an exchange with absolute times.
type converted struct {
	ex            *rprpb.Exchange
	sessionHeader http.Header
}

func convert(e *entry, maxBody int64, bodyCap int) (*converted, error) {
	start, err := parseStart(e.StartedDateTime)
	if err != nil {
		return nil, &fieldError{path: "startedDateTime", err: err}
	}
	req, major, tls, err := convertRequest(&e.Request, maxBody)
	if err != nil {
		return nil, err
	}
	startNs := start.UnixNano()
	t := e.Timings
	ms := func(v float64) float64 { return max(v, 0) } // -1 means not applicable
	sendAt := ms(t.Blocked) + ms(t.DNS) + ms(t.Connect)
	firstByte := sendAt + ms(t.Send) + ms(t.Wait)
	total := firstByte + ms(t.Receive)
	if e.Time != nil && *e.Time >= 0 {
		total = *e.Time
	}
	for _, v := range []float64{sendAt, firstByte, total} {
		if v > maxMillis {
			return nil, bad("timings", "duration of %g ms out of range", v)
		}
	}
	ex := &rprpb.Exchange{
		ConnectionId: connectionID(string(e.Connection)),
		StartNs:      startNs,
		EndNs:        startNs + millis(total),
		Request:      req,
	}
	ex.FirstByteNs = min(startNs+millis(firstByte), ex.EndNs)
	sendNs := min(startNs+millis(sendAt), ex.FirstByteNs)

	if e.Response.Status == 0 {
		// Chrome's blocked, cancelled and failed requests.
		ex.Error = e.Error
		if ex.Error == "" {
			ex.Error = "no response"
		}
	} else {
		resp, err := convertResponse(&e.Response, req.Proto, maxBody)
		if err != nil {
			return nil, err
		}
		ex.Response = resp
	}

	switch scheme := schemeOf(e.Request.URL); {
	case len(e.WebSocketMessages) > 0 || e.ResourceType == "websocket" || scheme == "ws" || scheme == "wss":
		ex.Protocol = rprpb.Protocol_PROTOCOL_WEBSOCKET
		ws, err := convertWebSocket(e.WebSocketMessages)
		if err != nil {
			return nil, err
		}
		ex.Websocket = ws
		// The entry's time covers the handshake; the connection lasts until
		// its last frame.
		for _, m := range ws.Messages {
			ex.EndNs = max(ex.EndNs, m.AtNs)
		}
	default:
		importers.Classify(ex, major, tls, sendNs, ex.FirstByteNs, bodyCap)
	}
	return &converted{ex: ex, sessionHeader: sessionHeader(&e.Request, req.Headers)}, nil
}

func parseStart(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	var t time.Time
	var err error
	// RFC 3339 first; some exporters write the zone without a colon.
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, fmt.Errorf("%q is out of range", s)
	}
	return t, nil
}

func millis(ms float64) int64 { return int64(math.Round(ms * 1e6)) }

func schemeOf(raw string) string {
	scheme, _, _ := strings.Cut(raw, ":")
	return strings.ToLower(scheme)
}

// connectionID parses Chrome's numeric socket id, or hashes any other label
// so that equal labels still mean one connection.
func connectionID(s string) uint64 {
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// version maps a HAR httpVersion to the recorded proto and its major number.
func version(v string) (string, int) {
	l := strings.ToLower(strings.TrimSpace(v))
	switch {
	case l == "http/1.0":
		return "HTTP/1.0", 1
	case l == "h2" || l == "h2c" || strings.HasPrefix(l, "http/2"):
		return "HTTP/2.0", 2
	case strings.HasPrefix(l, "h3") || strings.HasPrefix(l, "http/3"):
		return "HTTP/3.0", 2
	}
	return "HTTP/1.1", 1
}

func convertRequest(r *request, maxBody int64) (*rprpb.Request, int, bool, error) {
	if r.Method == "" {
		return nil, 0, false, bad("request.method", "missing")
	}
	if r.URL == "" {
		return nil, 0, false, bad("request.url", "missing")
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, 0, false, &fieldError{path: "request.url", err: err}
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, 0, false, bad("request.url", "%q is not an absolute URL", r.URL)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	proto, major := version(r.HTTPVersion)
	hs, err := headers("request.headers", r.Headers)
	if err != nil {
		return nil, 0, false, err
	}
	req := &rprpb.Request{
		Method:   r.Method,
		Scheme:   scheme,
		Host:     u.Host,
		Path:     u.EscapedPath(),
		RawQuery: u.RawQuery,
		Proto:    proto,
		// Host lives in the host field, as Go's server (and so the proxy)
		// keeps it out of the header map.
		Headers: importers.DeleteHeader(hs, "Host"),
	}
	if req.Path == "" {
		req.Path = "/"
	}
	body, err := requestBody(r, maxBody)
	if err != nil {
		return nil, 0, false, err
	}
	req.Body = body
	return req, major, scheme == "https", nil
}

func requestBody(r *request, maxBody int64) (*rprpb.Body, error) {
	p := r.PostData
	if p == nil {
		return nil, nil
	}
	var data []byte
	switch {
	case p.Text != "":
		if int64(len(p.Text)) > maxBody {
			return nil, &fieldError{path: "request.postData.text", err: fmt.Errorf("%d bytes exceed the %d-byte limit", len(p.Text), maxBody), limit: true}
		}
		var err error
		if data, err = decodeText("request.postData", p.Text, p.Encoding); err != nil {
			return nil, err
		}
	case len(p.Params) > 0 && isForm(p.MimeType):
		var b strings.Builder
		for i, kv := range p.Params {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(kv.Name))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(kv.Value))
		}
		data = []byte(b.String())
	case len(p.Params) > 0:
		// A multipart body is exported as params without its boundary or
		// file contents: it cannot be rebuilt byte for byte.
		return &rprpb.Body{Truncated: true, Size: max(r.BodySize, 0)}, nil
	default:
		return nil, nil
	}
	return &rprpb.Body{Data: data, Size: int64(len(data))}, nil
}

func isForm(mimeType string) bool {
	mt, _, _ := mime.ParseMediaType(mimeType)
	return mt == "application/x-www-form-urlencoded"
}

func decodeText(path, text, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "":
		return []byte(text), nil
	case "base64":
		// Some exporters wrap base64 lines; whitespace carries nothing.
		clean := strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, text)
		data, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			if data, err2 := base64.RawStdEncoding.DecodeString(clean); err2 == nil {
				return data, nil
			}
			return nil, &fieldError{path: path + ".text", err: fmt.Errorf("bad base64: %w", err)}
		}
		return data, nil
	}
	return nil, bad(path+".encoding", "unsupported encoding %q (want base64 or none)", encoding)
}

func convertResponse(r *response, reqProto string, maxBody int64) (*rprpb.Response, error) {
	if r.Status < 100 || r.Status > 999 {
		return nil, bad("response.status", "%d is not an HTTP status", r.Status)
	}
	proto := reqProto
	if r.HTTPVersion != "" {
		proto, _ = version(r.HTTPVersion)
	}
	hs, err := headers("response.headers", r.Headers)
	if err != nil {
		return nil, err
	}
	resp := &rprpb.Response{Status: int32(r.Status), Proto: proto, Headers: hs}
	c := r.Content
	switch {
	case c.Text != nil && *c.Text != "":
		if int64(len(*c.Text)) > maxBody {
			return nil, &fieldError{path: "response.content.text", err: fmt.Errorf("%d bytes exceed the %d-byte limit", len(*c.Text), maxBody), limit: true}
		}
		data, err := decodeText("response.content", *c.Text, c.Encoding)
		if err != nil {
			return nil, err
		}
		resp.Body = &rprpb.Body{Data: data, Size: int64(len(data))}
	case c.Size > 0:
		// The exporter left the body out (Chrome does for some types).
		resp.Body = &rprpb.Body{Truncated: true, Size: c.Size}
	}
	// HAR bodies are already decoded: say so in the headers, so that the
	// bytes are what the headers describe.
	if ce := importers.HeaderValue(resp.Headers, "Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		resp.Headers = importers.DeleteHeader(resp.Headers, "Content-Encoding")
		if resp.Body != nil && !resp.Body.Truncated {
			for _, h := range resp.Headers {
				if strings.EqualFold(h.Name, "Content-Length") {
					h.Values = []string{strconv.Itoa(len(resp.Body.Data))}
				}
			}
		}
	}
	return resp, nil
}

// headers converts a HAR header list, keeping order, dropping HTTP/2
// pseudo-headers and splitting values that an exporter joined with newlines
// (Chrome does so for Set-Cookie).
func headers(path string, in []nameVal) ([]*rprpb.Header, error) {
	var out importers.HeaderList
	for i, h := range in {
		name := strings.TrimSpace(h.Name)
		if name == "" {
			return nil, bad(fmt.Sprintf("%s[%d].name", path, i), "empty header name")
		}
		if strings.HasPrefix(name, ":") {
			continue
		}
		if strings.ContainsAny(name, " \t\r\n:") {
			return nil, bad(fmt.Sprintf("%s[%d].name", path, i), "invalid header name %q", name)
		}
		for _, v := range strings.Split(h.Value, "\n") {
			out.Add(name, strings.TrimRight(v, "\r"))
		}
	}
	return out.Headers(), nil
}

// sessionHeader is what the session chain sees: the request headers, plus a
// Cookie header rebuilt from the cookies list when the exporter left the
// header itself out.
func sessionHeader(r *request, hs []*rprpb.Header) http.Header {
	h := importers.HTTPHeader(hs)
	if h.Get("Cookie") == "" && len(r.Cookies) > 0 {
		parts := make([]string, 0, len(r.Cookies))
		for _, c := range r.Cookies {
			parts = append(parts, c.Name+"="+c.Value)
		}
		h.Set("Cookie", strings.Join(parts, "; "))
	}
	return h
}

func convertWebSocket(msgs []wsMessage) (*rprpb.WebSocket, error) {
	ws := &rprpb.WebSocket{}
	for i, m := range msgs {
		path := fmt.Sprintf("_webSocketMessages[%d]", i)
		var dir rprpb.Direction
		switch m.Type {
		case "send":
			dir = rprpb.Direction_DIRECTION_REQUEST
		case "receive":
			dir = rprpb.Direction_DIRECTION_RESPONSE
		default:
			return nil, bad(path+".type", "%q is neither send nor receive", m.Type)
		}
		at, err := unixSeconds(string(m.Time))
		if err != nil {
			return nil, &fieldError{path: path + ".time", err: err}
		}
		if m.Opcode < 0 || m.Opcode > 15 {
			return nil, bad(path+".opcode", "%d is not a WebSocket opcode", m.Opcode)
		}
		data := []byte(m.Data)
		if m.Opcode == 2 {
			// Chrome exports binary frames base64-encoded.
			d, err := base64.StdEncoding.DecodeString(m.Data)
			if err != nil {
				return nil, &fieldError{path: path + ".data", err: fmt.Errorf("bad base64 in binary frame: %w", err)}
			}
			data = d
		}
		msg := &rprpb.Message{Direction: dir, AtNs: at, Data: data, Size: int64(len(data)), Opcode: uint32(m.Opcode)}
		ws.Messages = append(ws.Messages, msg)
		if dir == rprpb.Direction_DIRECTION_REQUEST {
			ws.BytesClientToServer += msg.Size
		} else {
			ws.BytesServerToClient += msg.Size
		}
	}
	return ws, nil
}

// unixSeconds converts decimal Unix seconds to nanoseconds exactly: a float64
// would lose the microseconds Chrome writes.
func unixSeconds(s string) (int64, error) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < float64(minTime.Unix()) || f > float64(maxTime.Unix()) {
			return 0, fmt.Errorf("%q is not a Unix time in seconds", s)
		}
		return int64(math.Round(f * 1e9)), nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < minTime.Unix() || sec > maxTime.Unix() || len(frac) > 9 || strings.ContainsAny(frac, "+-") {
		return 0, fmt.Errorf("%q is not a Unix time in seconds", s)
	}
	var ns int64
	if frac != "" {
		n, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a Unix time in seconds", s)
		}
		ns = int64(n)
		for range 9 - len(frac) {
			ns *= 10
		}
	}
	return sec*1e9 + ns, nil
}
