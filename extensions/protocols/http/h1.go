package http

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/reprise-dev/reprise/harness/protocol"
)

// maxResponseHead bounds the bytes of a response head, 1xx responses
// included, as Transport's default MaxResponseHeaderBytes does.
const maxResponseHead = 10 << 20

// bufSize is the size of the connection's read and write buffers.
const bufSize = 4 << 10

// errConnClosed is returned by a Do after Close.
var errConnClosed = errors.New("http: connection closed")

// errHeadTooLarge is returned when a response head passes maxResponseHead.
var errHeadTooLarge = fmt.Errorf("http: response head larger than %d bytes", maxResponseHead)

// aLongTimeAgo is a deadline in the past: setting it makes the pending and
// later I/O of a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// h1Conn replays one recorded HTTP/1.1 connection on one net.Conn of its
// own, writing and reading on the calling goroutine. Transport would hand
// every request to a write loop and a read loop goroutine through
// channels; here a request costs no goroutine switch. Calls take turns: a
// recorded HTTP/1.1 connection carried one request at a time, so requests
// replayed on it queue behind a slow one as they did, and the wait shows
// in their latency (done − intended).
type h1Conn struct {
	t        protocol.Target
	prefix   string
	basePath string      // the target URL's path, no trailing slash
	host     string      // the Host header; "" leaves writing to net/http
	addr     string      // host:port to dial
	tls      *tls.Config // nil for http targets
	// dial connects, with what checks the connection while it is idle; a
	// test replaces it.
	dial func(ctx context.Context) (net.Conn, *idleCheck, error)

	// turn holds a token while a call uses the wire; a waiting call can
	// give up when its ctx ends, which a mutex would not allow.
	turn chan struct{}

	// Owned by the holder of turn.
	w      wire
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool       // the connection has completed an exchange
	idle   *idleCheck // nil where it cannot be checked
	// For writeHead and ReadResponse, reused by every call.
	keys    []string
	num     [20]byte
	headReq http.Request

	// watching is the Done channel of the ctx whose end aborts the
	// connection's I/O (see watch); owned by the holder of turn.
	watching <-chan struct{}

	mu       sync.Mutex
	closed   bool
	nc       net.Conn    // the open connection, closed by Close
	watchGen uint64      // counts watch's registrations; abort acts for the last only
	unwatch  func() bool // stops the last registration
	busy     bool        // an exchange is using nc: only then does abort act
	onAbort  func()      // a test's hook, called when abort has run
}

func newH1Conn(t protocol.Target) *h1Conn {
	u := t.URL
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	c := &h1Conn{t: t, prefix: urlPrefix(u), basePath: strings.TrimSuffix(u.Path, "/"), host: cleanHost(u.Host),
		addr: net.JoinHostPort(u.Hostname(), port), turn: make(chan struct{}, 1)}
	if u.Scheme == "https" {
		cfg := t.TLS.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		c.tls = cfg
	}
	c.dial = c.dialTarget
	return c
}

// dialTarget connects to the target, with TLS on https.
func (c *h1Conn) dialTarget(ctx context.Context) (net.Conn, *idleCheck, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, nil, err
	}
	idle := newIdleCheck(raw)
	if c.tls == nil {
		return raw, idle, nil
	}
	tc := idle.tlsClient(raw, c.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, nil, fmt.Errorf("tls handshake with %s: %w", c.addr, err)
	}
	return tc, idle, nil
}

// Close closes the connection; a Do in progress fails, later ones return
// an error.
func (c *h1Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.unwatch != nil {
		c.unwatch()
		c.unwatch = nil
	}
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.nc = nil
	return err
}

// Do sends the request and reads the response, keeping up to the target's
// MaxBody bytes of the body. Sent is taken before the call waits for its
// turn on the connection. The call's Timeout and ctx's deadline, the
// earlier of the two, bound it from there on as the socket's deadline.
func (c *h1Conn) Do(ctx context.Context, call *protocol.Call) (*protocol.Reply, error) {
	rep := &protocol.Reply{GRPCStatus: -1}
	out, err := c.outgoing(ctx, call)
	if err != nil {
		return rep, err
	}
	if err := validateHeaders(call.Header); err != nil {
		return rep, err
	}
	rep.Sent = call.Clock()
	deadline, _ := ctx.Deadline()
	if call.Timeout > 0 {
		if d := time.Now().Add(call.Timeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	err = c.do(ctx, deadline, out, call, rep)
	rep.Done = call.Clock()
	if rep.FirstByte == 0 && rep.Status != 0 {
		rep.FirstByte = rep.Done
	}
	return rep, err
}

// validateHeaders refuses what Transport refuses before sending.
func validateHeaders(h http.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("http: invalid header field name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("http: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

// do runs the call once it has the connection's turn; deadline (zero:
// none) bounds it.
func (c *h1Conn) do(ctx context.Context, deadline time.Time, out outgoing, call *protocol.Call, rep *protocol.Reply) error {
	select {
	case c.turn <- struct{}{}:
	default:
		if err := c.waitTurn(ctx, deadline); err != nil {
			return err
		}
	}
	defer func() { <-c.turn }()
	fresh, err := c.ready(ctx, deadline)
	if err != nil {
		return err
	}
	retry, err := c.exchange(ctx, deadline, out, call, rep)
	if err == nil || fresh || !retry {
		return err
	}
	// The server had given up on the kept connection before answering:
	// send the request once more, on a fresh connection whose failure is
	// the answer.
	if _, err := c.ready(ctx, deadline); err != nil {
		return err
	}
	out.resend(call)
	_, err = c.exchange(ctx, deadline, out, call, rep)
	return err
}

// waitTurn waits for the connection's turn, behind a call still using it,
// until ctx ends or the deadline passes. Only a call that has to wait
// pays for a timer.
func (c *h1Conn) waitTurn(ctx context.Context, deadline time.Time) error {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case c.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the connection: %w", ctx.Err())
	case <-expired:
		return fmt.Errorf("wait for the connection: %w", context.DeadlineExceeded)
	}
}

// watch makes the end of ctx abort the connection's I/O (abort). The
// calls of one replay share a ctx, or contexts made from it that share its
// Done channel, so a connection registers once for all of them: a
// registration per call (context.AfterFunc) allocated about 600 bytes a
// request, and every byte allocated per request brings the next GC cycle
// closer. The caller holds the turn.
func (c *h1Conn) watch(ctx context.Context) {
	done := ctx.Done()
	if done == c.watching {
		return
	}
	c.watching = done
	c.mu.Lock()
	c.watchGen++
	gen, old := c.watchGen, c.unwatch
	c.unwatch = nil
	c.mu.Unlock()
	if old != nil {
		old()
	}
	if done == nil {
		return
	}
	stop := context.AfterFunc(ctx, func() { c.abort(gen) })
	c.mu.Lock()
	if c.closed {
		stop()
	} else {
		c.unwatch = stop
	}
	c.mu.Unlock()
}

// abort fails the pending I/O of an exchange in progress, unless a later
// watch has replaced the registration that called it (the calls moved on
// to another ctx, whose end alone counts). Between exchanges it leaves the
// idle connection alone: a ctx of the call's own may end after the call,
// and a later call under an ended ctx sees that before it uses the wire.
func (c *h1Conn) abort(gen uint64) {
	c.mu.Lock()
	if gen == c.watchGen && c.busy && c.nc != nil {
		_ = c.nc.SetDeadline(aLongTimeAgo)
	}
	hook := c.onAbort
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
}

// setBusy marks the span in which abort may act on the connection.
func (c *h1Conn) setBusy(on bool) {
	c.mu.Lock()
	c.busy = on
	c.mu.Unlock()
}

// ready makes sure there is a connection to use, dialling one when there is
// none or when the kept one was closed by the server while idle (as
// Transport's read loop would have noticed). fresh tells a new connection.
func (c *h1Conn) ready(ctx context.Context, deadline time.Time) (fresh bool, err error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return false, errConnClosed
	}
	if c.w.conn != nil {
		// Bytes sent while idle are no answer to anything: the
		// connection is out of step (a 408 before a close, say).
		if c.br.Buffered() == 0 && !c.idle.stale() {
			return false, nil
		}
		c.drop()
	}
	dctx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, idle, err := c.dial(dctx)
	if err != nil {
		return true, failure(dctx, deadline, "dial", err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = nc.Close()
		return true, errConnClosed
	}
	c.nc = nc
	c.mu.Unlock()
	c.w = wire{conn: nc}
	if c.br == nil {
		c.br = bufio.NewReaderSize(&c.w, bufSize)
		c.bw = bufio.NewWriterSize(&c.w, bufSize)
	} else {
		c.br.Reset(&c.w)
		c.bw.Reset(&c.w)
	}
	c.reused = false
	c.idle = idle
	return true, nil
}

// drop closes the connection in use; the next call dials again.
func (c *h1Conn) drop() {
	c.mu.Lock()
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc = nil
	}
	c.mu.Unlock()
	c.w.conn = nil
	c.idle = nil
}

// exchange writes the request and reads the response on the current
// connection, keeping it when the response allows. retry tells that the
// request may be sent again on a new connection, as Transport would: no
// byte of it went out, or it is idempotent and no response byte came back.
func (c *h1Conn) exchange(ctx context.Context, deadline time.Time, out outgoing, call *protocol.Call, rep *protocol.Reply) (retry bool, err error) {
	nc := c.w.conn
	c.watch(ctx)
	// Busy and the deadline set before ctx is looked at: an abort that
	// comes after the look overrides this deadline, and one that came
	// before it is seen.
	c.setBusy(true)
	_ = nc.SetDeadline(deadline)
	if err := ctx.Err(); err != nil {
		c.setBusy(false)
		c.drop() // aborted, or about to be
		return false, failure(ctx, deadline, "write request", err)
	}
	keep := false
	defer func() {
		// An abort after this leaves the socket alone; one before it
		// has ended ctx.
		c.setBusy(false)
		if ctx.Err() != nil { // aborted: the deadline may be set in the past
			keep = false
		}
		if keep && !deadline.IsZero() && nc.SetDeadline(time.Time{}) != nil {
			keep = false
		}
		if keep {
			c.reused = true
		} else {
			c.drop()
		}
	}()

	c.w.read, c.w.written = 0, 0
	head := out.req
	if head != nil {
		err = head.Write(c.bw)
	} else {
		err = c.writeHead(out, call)
		c.headReq.Method = out.method
		head = &c.headReq
	}
	if err != nil {
		return c.mayRetry(ctx, err, out.method, call.Header), failure(ctx, deadline, "write request", err)
	}
	if err := c.bw.Flush(); err != nil {
		return c.mayRetry(ctx, err, out.method, call.Header), failure(ctx, deadline, "write request", err)
	}
	c.w.limitHead(true)
	defer c.w.limitHead(false)
	if _, err := c.br.Peek(1); err != nil {
		return c.mayRetry(ctx, err, out.method, call.Header), failure(ctx, deadline, "read response", err)
	}
	rep.FirstByte = call.Clock()
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(c.br, head)
		if err != nil {
			return false, failure(ctx, deadline, "read response", err)
		}
		// 1xx responses are interim (101 is not: it ends the exchange).
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	c.w.limitHead(false)
	rep.Status, rep.Header = resp.StatusCode, resp.Header
	length := resp.ContentLength
	if resp.Body == http.NoBody { // HEAD, 204, 304: Content-Length describes no bytes here
		length = 0
	}
	raw, rerr := readUpTo(resp.Body, length, c.t.Limit(), call.BodyBuf)
	n, derr := io.Copy(io.Discard, resp.Body) // the rest still counts toward size and done
	rep.Trailer = resp.Trailer
	rep.Body, rep.Size = raw, int64(len(raw))+n
	if rerr == nil {
		rerr = derr
	}
	if rerr != nil {
		return false, failure(ctx, deadline, "read body", rerr)
	}
	keep = !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols
	return false, nil
}

// mayRetry applies Transport's rule for a request that failed (with err)
// before any response byte: only on a reused connection, and only if
// nothing was written or the request is idempotent (the body is in memory,
// so it can always be sent again). A deadline that passed is the call's
// own (its ctx's or its Timeout), not the server's closing: no retry.
func (c *h1Conn) mayRetry(ctx context.Context, err error, method string, h http.Header) bool {
	if !c.reused || ctx.Err() != nil || c.w.read > 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	return c.w.written == 0 || idempotent(method, h)
}

// idempotent is net/http's Request.isReplayable for a body held in memory.
func idempotent(method string, h http.Header) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := h["Idempotency-Key"]
	if !ok {
		_, ok = h["X-Idempotency-Key"]
	}
	return ok
}

// readUpTo reads up to limit bytes of body into buf's array while they
// fit, allocating once when the length is known and they do not; it
// grows buf as append does when the length is unknown. The result is never
// nil.
func readUpTo(body io.Reader, length int64, limit int, buf []byte) ([]byte, error) {
	if length >= 0 {
		n := int(min(length, int64(limit)))
		if buf == nil || n > cap(buf) {
			buf = make([]byte, n)
		}
		m, err := io.ReadFull(body, buf[:n])
		return buf[:m], err
	}
	buf = buf[:0]
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := body.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// failure names the step that failed; when the call's ctx ended or its
// deadline passed, the error wraps ctx.Err() or context.DeadlineExceeded
// so that the caller can tell.
func failure(ctx context.Context, deadline time.Time, step string, err error) error {
	cerr := ctx.Err()
	if cerr == nil && errors.Is(err, os.ErrDeadlineExceeded) && !deadline.IsZero() && !time.Now().Before(deadline) {
		// The connection's deadline is the call's (the ctx's deadline
		// or the call's Timeout): it may fire before the ctx's own
		// timer has marked it done.
		cerr = context.DeadlineExceeded
	}
	switch {
	case cerr == nil:
		return fmt.Errorf("%s: %w", step, err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, cerr):
		return fmt.Errorf("%s: %w", step, cerr) // the deadline was ours
	}
	return fmt.Errorf("%s: %w: %w", step, cerr, err)
}

// wire is the connection under the buffers: it counts the bytes each way,
// so a failure can tell whether anything was sent or received, and bounds
// a response head.
type wire struct {
	conn          net.Conn
	read, written int64
	inHead        bool
	headLeft      int64 // while inHead, how many more bytes the head may take
}

// limitHead starts (on) or ends the bound on a response head.
func (w *wire) limitHead(on bool) {
	w.inHead, w.headLeft = on, maxResponseHead
}

func (w *wire) Read(p []byte) (int, error) {
	if w.inHead {
		if w.headLeft <= 0 {
			return 0, errHeadTooLarge
		}
		if int64(len(p)) > w.headLeft {
			p = p[:w.headLeft]
		}
	}
	n, err := w.conn.Read(p)
	w.read += int64(n)
	w.headLeft -= int64(n)
	return n, err
}

func (w *wire) Write(p []byte) (int, error) {
	n, err := w.conn.Write(p)
	w.written += int64(n)
	return n, err
}

var _ protocol.Conn = (*h1Conn)(nil)
