package replay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// ErrUnsupported marks exchanges this driver cannot replay yet (gRPC,
// WebSocket); they still produce a Result so nothing is skipped silently.
var ErrUnsupported = errors.New("protocol not supported yet")

// hopHeaders belong to one connection and are never replayed; Host and
// Content-Length are set from the target and the body.
var hopHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"te": true, "trailer": true, "upgrade": true, "host": true, "content-length": true,
	"proxy-authorization": true, "proxy-authenticate": true, "http2-settings": true,
}

// connKey identifies a recorded client connection.
type connKey struct {
	session string
	conn    uint64
}

// httpDriver sends rebuilt requests. It keeps one Transport per recorded
// (session, connection), so the target sees connections open and get
// reused the way the recording did; a Transport is closed when the last
// request of its recorded connection is done, which bounds open sockets by
// the recording's own concurrency.
type httpDriver struct {
	target  *url.URL
	timeout time.Duration
	tlsConf *tls.Config

	mu    sync.Mutex
	conns map[connKey]*connState
}

type connState struct {
	tr   *http.Transport
	left int // requests of this connection not yet done
}

func newHTTPDriver(target *url.URL, timeout time.Duration, tlsConf *tls.Config) *httpDriver {
	return &httpDriver{target: target, timeout: timeout, tlsConf: tlsConf, conns: make(map[connKey]*connState)}
}

// expect registers one more request of a recorded connection.
func (d *httpDriver) expect(k connKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.conns[k]
	if c == nil {
		c = &connState{}
		d.conns[k] = c
	}
	c.left++
}

func (d *httpDriver) transport(k connKey, proto rprpb.Protocol) *http.Transport {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.conns[k]
	if c == nil { // not expected: serve it anyway, closed at shutdown
		c = &connState{left: 1}
		d.conns[k] = c
	}
	if c.tr == nil {
		c.tr = d.newTransport(proto)
	}
	return c.tr
}

func (d *httpDriver) release(k connKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.conns[k]
	if c == nil {
		return
	}
	if c.left--; c.left <= 0 {
		if c.tr != nil {
			c.tr.CloseIdleConnections()
		}
		delete(d.conns, k)
	}
}

func (d *httpDriver) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, c := range d.conns {
		if c.tr != nil {
			c.tr.CloseIdleConnections()
		}
		delete(d.conns, k)
	}
}

// newTransport picks the wire protocol: on an http target a recorded
// HTTP/2 exchange (h2c or h2) goes out as prior-knowledge h2c; on https,
// ALPN offers h2 for HTTP/2 exchanges and HTTP/1.1 only for HTTP/1 ones.
func (d *httpDriver) newTransport(proto rprpb.Protocol) *http.Transport {
	tr := &http.Transport{
		Proxy:               nil, // never through an environment proxy: the guard vetted the target itself
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,              // the recorded Accept-Encoding is replayed as is
		TLSClientConfig:     d.tlsConf.Clone(), // the transport adds its ALPN protocols to it
	}
	h2 := proto == rprpb.Protocol_PROTOCOL_H2C || proto == rprpb.Protocol_PROTOCOL_H2
	var p http.Protocols
	switch {
	case d.target.Scheme == "https" && h2:
		p.SetHTTP2(true)
		p.SetHTTP1(true)
		tr.ForceAttemptHTTP2 = true
	case h2:
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
	return tr
}

// rebuild makes the outgoing request from the recorded exchange.
func rebuild(ex *rprpb.Exchange) *outRequest {
	req := ex.GetRequest()
	o := &outRequest{
		method:    req.GetMethod(),
		path:      req.GetPath(),
		rawQuery:  req.GetRawQuery(),
		header:    make(http.Header, len(req.GetHeaders())),
		body:      bytes.Clone(req.GetBody().GetData()),
		truncated: req.GetBody().GetTruncated(),
	}
	if o.method == "" {
		o.method = http.MethodGet
	}
	if o.path == "" {
		o.path = "/"
	}
	for _, h := range req.GetHeaders() {
		name := h.GetName()
		if strings.HasPrefix(name, ":") || hopHeaders[strings.ToLower(name)] {
			continue
		}
		for _, v := range h.GetValues() {
			o.header.Add(name, v)
		}
	}
	return o
}

// exchangeTimes are offsets from the run's start.
type exchangeTimes struct {
	sent, firstByte, done time.Duration
}

// send performs the request and reads the response, up to maxBody.
func (d *httpDriver) send(ctx context.Context, tr *http.Transport, o *outRequest, since func() time.Duration) (status int, live liveResponse, size int64, t exchangeTimes, err error) {
	target := strings.TrimSuffix(d.target.Scheme+"://"+d.target.Host+d.target.Path, "/") + o.path
	if o.rawQuery != "" {
		target += "?" + o.rawQuery
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	// The transport's read loop calls the trace hook on its own goroutine,
	// possibly after RoundTrip has returned an error: hand the time over
	// atomically.
	var firstByte atomic.Int64
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotFirstResponseByte: func() { firstByte.CompareAndSwap(0, int64(since())) },
	})
	req, err := http.NewRequestWithContext(ctx, o.method, target, bytes.NewReader(o.body))
	if err != nil {
		return 0, live, 0, t, fmt.Errorf("build request: %w", err)
	}
	req.Header = o.header
	req.ContentLength = int64(len(o.body))
	if len(o.body) == 0 {
		req.Body = http.NoBody
	}
	t.sent = since()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.done = since()
		t.firstByte = time.Duration(firstByte.Load())
		return 0, live, 0, t, err
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	n, _ := io.Copy(io.Discard, resp.Body) // the rest still counts toward size and done
	t.done = since()
	t.firstByte = time.Duration(firstByte.Load())
	if t.firstByte == 0 {
		t.firstByte = t.done
	}
	live.header = resp.Header
	if b, ok := decodeBody(raw, resp.Header.Get("Content-Encoding")); ok {
		live.body = b
	}
	if rerr != nil {
		return resp.StatusCode, live, int64(len(raw)) + n, t, fmt.Errorf("read body: %w", rerr)
	}
	return resp.StatusCode, live, int64(len(raw)) + n, t, nil
}
