package proxy

import (
	"io"
	"math/bits"
	"net/http"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// exchange is the capture state of one request while it is in flight. The
// taps feed it from whichever goroutine reads the bodies (the handler, the
// transport's writer, an upgrade copier); mu orders them, which is also what
// puts gRPC messages and WebSocket frames of both directions in wire order
// in the codec's shared Capture.
//
// The transport may still read the request body after the handler returns,
// so finish seals the exchange: later reads pass through untouched.
type exchange struct {
	p      *Proxy
	req    *http.Request
	id     uint64
	codec  protocol.Codec // nil when no codec claimed the request
	proto  rprpb.Protocol
	conn   uint64
	stream uint32
	start  time.Duration

	reqTap, respTap bodyTap

	mu        sync.Mutex
	sealed    bool
	firstByte time.Duration
	resp      *http.Response
	status    int    // set when the proxy answered itself (502, or 499 for a client gone)
	errMsg    string // the first failure seen
	// For protocols whose bodies are message streams (gRPC): the messages
	// of both directions and each direction's splitter, by rprpb.Direction.
	msgs  *protocol.Capture
	split [3]protocol.Splitter
	ws    *wsConn
}

func (p *Proxy) begin(r *http.Request) *exchange {
	x := &exchange{
		p:     p,
		req:   r,
		id:    p.ids.Add(1),
		start: p.since(),
	}
	x.codec, x.proto = p.classify(r)
	if cs := connOf(r); cs != nil {
		x.conn = cs.id
		if r.ProtoMajor == 2 {
			x.stream = 2*cs.streams.Add(1) - 1
		}
	}
	// Only gRPC has a home in the record for messages split from bodies.
	if bs, ok := x.codec.(protocol.BodySplitter); ok && x.proto == rprpb.Protocol_PROTOCOL_GRPC {
		x.msgs = protocol.NewCapture(p.limits)
		x.split[rprpb.Direction_DIRECTION_REQUEST] = bs.SplitBody(x.msgs, rprpb.Direction_DIRECTION_REQUEST)
		x.split[rprpb.Direction_DIRECTION_RESPONSE] = bs.SplitBody(x.msgs, rprpb.Direction_DIRECTION_RESPONSE)
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

func (x *exchange) upstreamFailed(status int, msg string) {
	now := x.p.since()
	x.mu.Lock()
	if x.firstByte == 0 {
		x.firstByte = now
	}
	x.status = status
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

// bodyTap copies the first bytes of a body as it streams through, and counts
// all of them. When the codec splits bodies (gRPC) it feeds the splitter
// instead of keeping the body.
type bodyTap struct {
	x   *exchange
	rc  io.ReadCloser
	dir rprpb.Direction
	// declared is the body's Content-Length, or -1 when unknown. A small
	// known length gets a buffer of its capturable size up front, which the
	// record then keeps without a copy.
	declared int64

	// ended is set once rc has reported EOF; only the reading goroutine
	// touches it.
	ended bool

	// Guarded by x.mu.
	data      []byte // the captured prefix
	size      int64
	truncated bool
	eof       bool
}

func (t *bodyTap) Read(p []byte) (int, error) {
	if t.ended {
		// Answer for a body that has ended rather than read it again. Having
		// sent a body of declared length, the transport reads once more to
		// check it is no longer; by then the upstream may have answered, and
		// an HTTP/1 server closes the request body as it writes the response
		// headers. That read would fail, and the transport would drop the
		// upstream connection under the response being relayed.
		return 0, io.EOF
	}
	n, err := t.rc.Read(p)
	if n > 0 || err == io.EOF {
		t.x.observe(t, p[:n], err == io.EOF)
	}
	t.ended = err == io.EOF
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
	if s := x.split[t.dir]; s != nil {
		if len(b) > 0 {
			s.Write(b, int64(x.p.since()))
		}
		return
	}
	if len(b) == 0 {
		return
	}
	room := x.p.bodyCap - int64(len(t.data))
	if room <= 0 {
		t.truncated = true
		return
	}
	if int64(len(b)) > room {
		b = b[:room]
		t.truncated = true
	}
	if t.data == nil {
		// A small declared length gets a buffer of its size up front; an
		// unknown one starts small and grows.
		want := initialBuf
		if t.declared > 0 && t.declared <= maxPresized {
			want = int(min(t.declared, x.p.bodyCap))
		}
		t.data = getBody(want)
	}
	t.data = append(t.data, b...)
}

// body fills b with what the tap captured and returns it, or returns nil
// when no body crossed the tap. The record takes the capture buffer as it
// is. Call after sealing.
func (t *bodyTap) body(b *rprpb.Body) *rprpb.Body {
	if t.rc == nil {
		return nil
	}
	b.Size, b.Truncated = t.size, t.truncated
	if len(t.data) > 0 {
		b.Data = t.data
	} else {
		t.release()
	}
	t.data = nil
	return b
}

// release returns a buffer no record took.
func (t *bodyTap) release() {
	putBody(t.data)
	t.data = nil
}

// Body capture buffers come from pools by power-of-two size class and go
// to the record without a copy. Recorder's chain hands them back once the
// record is in the file (recycleBodies); any other sink simply lets them go.
const (
	minBufShift = 9  // 512 B
	maxBufShift = 16 // 64 KiB
	initialBuf  = 4 << 10
	// maxPresized bounds the buffer a declared length buys before its
	// bytes arrive: a client may declare a large body and send nothing.
	maxPresized = 1 << maxBufShift
)

var bodyBufs [maxBufShift - minBufShift + 1]sync.Pool // of *[]byte

// getBody returns an empty buffer of capacity at least n.
func getBody(n int) []byte {
	k := max(bits.Len(uint(n-1)), minBufShift)
	if k > maxBufShift {
		return make([]byte, 0, n)
	}
	if p, ok := bodyBufs[k-minBufShift].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<k)
}

// putBody pools b under the largest class its capacity covers. Buffers
// past the largest class (a body that grew towards the body cap) are left
// to the collector rather than pinned.
func putBody(b []byte) {
	k := bits.Len(uint(cap(b))) - 1
	if k < minBufShift || k > maxBufShift {
		return
	}
	b = b[:0]
	bodyBufs[k-minBufShift].Put(&b)
}

// recycleBodies returns the capture buffers of a record that nothing
// references any more.
func recycleBodies(bufs [2][]byte) {
	for _, b := range bufs {
		if b != nil {
			putBody(b)
		}
	}
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
