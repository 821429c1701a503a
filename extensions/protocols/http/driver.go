package http

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Replays claims the plain HTTP versions.
func (Codec) Replays(p rprpb.Protocol) bool {
	switch p {
	case rprpb.Protocol_PROTOCOL_HTTP1, rprpb.Protocol_PROTOCOL_H2C, rprpb.Protocol_PROTOCOL_H2,
		rprpb.Protocol_PROTOCOL_UNSPECIFIED:
		return true
	}
	return false
}

// Dial returns a client of its own for one recorded connection. An
// HTTP/1.1 connection gets a direct client (h1Conn) on one net.Conn; an
// HTTP/2 one gets a Transport of its own. Dial does no I/O.
func (Codec) Dial(t protocol.Target) (protocol.Conn, error) {
	if t.URL == nil || (t.URL.Scheme != "http" && t.URL.Scheme != "https") {
		return nil, fmt.Errorf("http: target %v: want http(s)://host[:port]", t.URL)
	}
	if t.Protocol != rprpb.Protocol_PROTOCOL_H2C && t.Protocol != rprpb.Protocol_PROTOCOL_H2 {
		return newH1Conn(t), nil
	}
	return newTransportConn(t), nil
}

func newTransportConn(t protocol.Target) *conn {
	return &conn{t: t, prefix: urlPrefix(t.URL), tr: newTransport(t)}
}

// urlPrefix is what every replayed path is appended to: the target's
// scheme, host and path, without a trailing slash.
func urlPrefix(u *url.URL) string {
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
}

// newRequest builds the request of a call; both clients write the same one.
func newRequest(ctx context.Context, prefix string, call *protocol.Call) (*http.Request, error) {
	target := prefix + call.Path
	if call.RawQuery != "" {
		target += "?" + call.RawQuery
	}
	method := call.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(call.Body) > 0 {
		body = bytes.NewReader(call.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if call.Header != nil {
		req.Header = call.Header
	}
	req.ContentLength = int64(len(call.Body))
	if len(call.Body) == 0 {
		req.Body = http.NoBody
	}
	return req, nil
}

// newTransport picks the wire protocol: on an http target a recorded HTTP/2
// exchange (h2c or h2) goes out as prior-knowledge h2c; on https, ALPN
// offers h2 for HTTP/2 exchanges and HTTP/1.1 only for HTTP/1 ones. The
// HTTP/1 case is no longer dialled (h1Conn replaces it); the tests keep it
// as the reference the direct client's wire bytes and cost are compared to.
func newTransport(t protocol.Target) *http.Transport {
	tr := &http.Transport{
		Proxy:               nil, // never through an environment proxy: the guard vetted the target itself
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,          // the recorded Accept-Encoding is replayed as is
		TLSClientConfig:     t.TLS.Clone(), // the transport adds its ALPN protocols to it
	}
	h2 := t.Protocol == rprpb.Protocol_PROTOCOL_H2C || t.Protocol == rprpb.Protocol_PROTOCOL_H2
	var p http.Protocols
	switch {
	case t.URL.Scheme == "https" && h2:
		p.SetHTTP2(true)
		p.SetHTTP1(true)
		tr.ForceAttemptHTTP2 = true
	case h2:
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
		// A recorded HTTP/1.1 connection carried one request at a time:
		// requests replayed on it queue behind a slow one as they did, and
		// the wait shows in their latency (done − intended).
		tr.MaxConnsPerHost = 1
	}
	tr.Protocols = &p
	return tr
}

// conn replays over a Transport of its own (HTTP/2).
type conn struct {
	t      protocol.Target
	prefix string
	tr     *http.Transport
}

func (c *conn) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// Do sends the request and reads the response, keeping up to the target's
// MaxBody bytes of the body.
func (c *conn) Do(ctx context.Context, call *protocol.Call) (*protocol.Reply, error) {
	rep := &protocol.Reply{GRPCStatus: -1}
	ctx, cancel := call.Bound(ctx)
	defer cancel()
	// The transport's read loop calls the trace hook on its own goroutine,
	// possibly after RoundTrip has returned an error: hand the time over
	// atomically.
	var firstByte atomic.Int64
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotFirstResponseByte: func() { firstByte.CompareAndSwap(0, int64(call.Clock())) },
	})
	req, err := newRequest(ctx, c.prefix, call)
	if err != nil {
		return rep, err
	}
	rep.Sent = call.Clock()
	resp, err := c.tr.RoundTrip(req)
	if err != nil {
		rep.Done = call.Clock()
		rep.FirstByte = time.Duration(firstByte.Load())
		return rep, err
	}
	defer resp.Body.Close()
	raw, rerr := readUpTo(resp.Body, -1, c.t.Limit(), call.BodyBuf)
	n, derr := io.Copy(io.Discard, resp.Body) // the rest still counts toward size and done
	if rerr == nil {
		rerr = derr // a stream reset past the kept bytes is still a failed body
	}
	rep.Done = call.Clock()
	rep.FirstByte = time.Duration(firstByte.Load())
	if rep.FirstByte == 0 {
		rep.FirstByte = rep.Done
	}
	rep.Status, rep.Header, rep.Trailer = resp.StatusCode, resp.Header, resp.Trailer
	rep.Body, rep.Size = raw, int64(len(raw))+n
	if rerr != nil {
		return rep, fmt.Errorf("read body: %w", rerr)
	}
	return rep, nil
}

var (
	_ protocol.Driver = Codec{}
	_ protocol.Conn   = (*conn)(nil)
)
