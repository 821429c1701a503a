package proxy

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// exchange is the capture state of one request while it is in flight. The
// taps feed it from whichever goroutine reads the bodies (the handler, the
// transport's writer, an upgrade copier); mu orders them, which is also what
// puts gRPC messages and WebSocket frames of both directions in wire order.
//
// The transport may still read the request body after the handler returns,
// so finish seals the exchange: later reads pass through untouched.
type exchange struct {
	p      *Proxy
	req    *http.Request
	id     uint64
	proto  rprpb.Protocol
	conn   uint64
	stream uint32
	start  time.Duration

	reqTap, respTap bodyTap

	mu        sync.Mutex
	sealed    bool
	firstByte time.Duration
	resp      *http.Response
	status    int    // set when the proxy answered itself (502)
	errMsg    string // the first failure seen
	budget    int64  // bytes still capturable over the exchange's messages
	grpc      *grpcCapture
	ws        *wsConn
}

func (p *Proxy) begin(r *http.Request) *exchange {
	x := &exchange{
		p:      p,
		req:    r,
		id:     p.ids.Add(1),
		start:  p.since(),
		proto:  protocolOf(r),
		budget: p.exchangeCap,
	}
	if cs, ok := r.Context().Value(connKey{}).(*connState); ok {
		x.conn = cs.id
		if r.ProtoMajor == 2 {
			x.stream = 2*cs.streams.Add(1) - 1
		}
	}
	if x.proto == rprpb.Protocol_PROTOCOL_GRPC {
		x.grpc = &grpcCapture{}
	}
	return x
}

// gotResponse notes the upstream's response headers: the first response
// byte as far as the proxy can tell.
func (x *exchange) gotResponse(resp *http.Response) {
	now := x.p.since()
	x.mu.Lock()
	x.firstByte = now
	x.resp = resp
	x.mu.Unlock()
}

func (x *exchange) upstreamFailed(msg string) {
	now := x.p.since()
	x.mu.Lock()
	if x.firstByte == 0 {
		x.firstByte = now
	}
	x.status = http.StatusBadGateway
	if x.errMsg == "" {
		x.errMsg = msg
	}
	x.mu.Unlock()
}

func (x *exchange) fail(msg string) {
	x.mu.Lock()
	if x.errMsg == "" {
		x.errMsg = msg
	}
	x.mu.Unlock()
}

// take reserves up to want bytes of the exchange's capture budget for one
// message, within the per-message cap. Call with mu held.
func (x *exchange) take(want int64) int64 {
	n := min(want, x.p.bodyCap, x.budget)
	if n < 0 {
		n = 0
	}
	x.budget -= n
	return n
}

// bodyTap copies the first bytes of a body as it streams through, and counts
// all of them. For gRPC it parses messages instead of keeping the body.
type bodyTap struct {
	x   *exchange
	rc  io.ReadCloser
	dir rprpb.Direction

	// Guarded by x.mu.
	buf       *[]byte
	size      int64
	truncated bool
	eof       bool
}

func (t *bodyTap) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 || err == io.EOF {
		t.x.observe(t, p[:n], err == io.EOF)
	}
	return n, err
}

func (t *bodyTap) Close() error { return t.rc.Close() }

func (x *exchange) observe(t *bodyTap, b []byte, eof bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		return
	}
	t.size += int64(len(b))
	if eof {
		t.eof = true
	}
	if x.grpc != nil {
		x.grpc.feed(x, t.dir, b, x.p.since())
		return
	}
	if len(b) == 0 {
		return
	}
	have := int64(0)
	if t.buf != nil {
		have = int64(len(*t.buf))
	}
	room := x.p.bodyCap - have
	if room <= 0 {
		t.truncated = true
		return
	}
	if int64(len(b)) > room {
		b = b[:room]
		t.truncated = true
	}
	if t.buf == nil {
		t.buf = getBuf()
	}
	*t.buf = append(*t.buf, b...)
}

// body returns what the tap captured, or nil when no body crossed it. The
// pooled buffer goes back; the record gets an exact-size copy. Call after
// sealing.
func (t *bodyTap) body() *rprpb.Body {
	if t.rc == nil {
		return nil
	}
	b := &rprpb.Body{Size: t.size, Truncated: t.truncated}
	if t.buf != nil {
		if len(*t.buf) > 0 {
			b.Data = append([]byte(nil), *t.buf...)
		}
		putBuf(t.buf)
		t.buf = nil
	}
	return b
}

// Capture buffers are pooled: most bodies are small, and a pooled buffer
// that grew for one large body serves the next without regrowing.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

// maxPooledBuf keeps a body cap raised to hundreds of MiB from pinning such
// buffers in the pool.
const maxPooledBuf = 4 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// copyBuffers is ReverseProxy's copy buffer pool; without one it allocates
// 32 KiB per response.
var copyBuffers = bufferPool{p: sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}}

type bufferPool struct{ p sync.Pool }

func (bp *bufferPool) Get() []byte { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) {
	if cap(b) >= 32<<10 {
		b = b[:cap(b)]
		bp.p.Put(&b)
	}
}
