package replay

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// do replays one node and returns its Result. Live values its response
// issues are captured before it returns (a stream's as its messages
// arrive), so successors released by its completion see them. The error
// is not the request's but the run's: the exchange store failed (ErrStore),
// and every later read would fail alike.
func (r *Replayer) do(ctx context.Context, d plan.Due) (*rprpb.Result, error) {
	n, pc := r.plan.Nodes[d.Node], r.plan.Call(d.Node)
	res := &rprpb.Result{ExchangeId: n.ID, Clone: uint32(max(pc.Clone, 0)), Session: pc.Session, Method: pc.Method,
		Route: pc.Route, IntendedNs: int64(d.At), GrpcStatus: -1}
	proto, _ := r.src.protocol(n.ID)
	key := connKey{pc.Session, n.Connection, proto}
	defer r.conns.release(key)
	got, err := r.src.recorded(n.ID)
	ex, recSum := got.ex, got.sum
	if err != nil {
		res.Error = "not sent: " + err.Error()
		if errors.Is(err, ErrStore) {
			return res, err
		}
		return res, nil
	}
	drv := r.drivers[proto]
	if drv == nil {
		res.Error = ErrUnsupported.Error()
		return res, nil
	}
	o := got.out
	if o == nil {
		o = rebuild(ex)
	}
	if o.proto == rprpb.Protocol_PROTOCOL_GRPC {
		// Compressed bytes sent as plain would be garbage to the target:
		// such a request is not sent, and says why (NotSent).
		if err := o.decompressMessages(); err != nil {
			res.Error = "not sent: " + err.Error()
			return res, nil
		}
	}
	var notes []string
	// Times are shifted first, while the body holds only recorded values:
	// a live value the target just issued may itself look like a time in
	// the recording's span.
	if r.cfg.shift != nil {
		r.cfg.shift.apply(o)
	}
	for _, rw := range r.plan.Rewrites(d.Node) {
		o.rewrite(rw.At, rw.Old, rw.New)
	}
	r.substitute(o, d.Node, res)
	if r.cfg.creds != nil {
		notes = append(notes, o.credentials(ctx, r.cfg.creds, pc.Session)...)
	}
	if o.truncated {
		r.mu.Lock()
		r.col.sum.TruncatedBodies++
		r.mu.Unlock()
	}
	if r.beforeSend != nil {
		r.beforeSend(d.Node)
	}
	since := func() time.Duration { return time.Since(r.t0) }
	call := o.call(ex, r.sched.Speed(), since)
	call.OnMessage = r.captureMessage(d.Node, ex)
	// Live values from messages are captured as they arrive: the driver
	// need not keep a stream's bytes until it ends.
	call.DiscardMessageData = true
	buf := bodyBufs.Get().(*[]byte)
	call.BodyBuf = *buf
	rep, err := r.send(ctx, key, drv, call, r.lasted(ex))
	// Nothing of the body outlives do: the diff and the live values are
	// copies.
	defer recycleBody(buf, rep.Body)
	res.SentNs, res.FirstByteNs, res.DoneNs = int64(rep.Sent), int64(rep.FirstByte), int64(rep.Done)
	res.Status, res.GrpcStatus = int32(rep.Status), rep.GRPCStatus
	notes = append(notes, rep.Notes...)
	if err != nil {
		res.Failed = true // with a status, the answer was cut short
		notes = append(notes, err.Error())
		if ctx.Err() != nil {
			notes = append(notes[:len(notes)-1], "aborted: run ended")
		}
	}
	res.Error = strings.Join(notes, "; ")
	if rep.Status == 0 {
		return res, nil
	}
	live := liveResponse{header: rep.Header, msgs: rep.Messages}
	if b, ok := decodeBody(rep.Body, rep.Header.Get("Content-Encoding")); ok {
		live.body = b
	}
	switch o.proto {
	case rprpb.Protocol_PROTOCOL_GRPC, rprpb.Protocol_PROTOCOL_WEBSOCKET:
		res.Diff = diffMessages(ex, rep.Status, rep.GRPCStatus, live)
	default:
		res.Diff = diffResponse(ex, func() *recBody {
			if recSum == nil {
				rb := summarizeBody(ex.GetResponse())
				recSum = &rb
			}
			return recSum
		}, rep.Status, live, rep.Size)
	}
	for _, ci := range r.producesOf(d.Node) {
		if v, ok := liveValue(r.plan.Correlations[ci], ex, live); ok {
			r.live[ci].Store(&v)
		}
	}
	return res, nil
}

// bodyBufs holds the buffers response bodies are read into (Call.BodyBuf):
// a 1 KiB answer was an allocation of 1 KiB per request, and what a
// request allocates sets how often the GC runs, whose cycles are where
// requests go out late.
var bodyBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

// maxPooledBody is the largest buffer bodyBufs keeps: a rare large body
// should not hold its memory for the rest of the run.
const maxPooledBody = 64 << 10

// recycleBody returns a body's buffer to bodyBufs through buf, the pool's
// holder it came in: the body itself when it fits (the driver may have
// grown the buffer, or read into one of its own), or buf's own.
func recycleBody(buf *[]byte, body []byte) {
	if c := cap(body); c > 0 && c <= maxPooledBody {
		*buf = body[:0]
	}
	bodyBufs.Put(buf)
}

// lasted is how long a gRPC call ran when recorded, ÷ speed: its messages
// keep their offsets, so its timeout counts only after that. Every gRPC
// call gets it, as its recorded kind is a guess (a long stream that
// answered once looks unary); plain requests get 0.
func (r *Replayer) lasted(ex *rprpb.Exchange) time.Duration {
	if ex.GetGrpc() == nil {
		return 0
	}
	return time.Duration(float64(max(ex.GetEndNs()-ex.GetStartNs(), 0)) / r.sched.Speed())
}

// send runs the call on the recorded connection's client, bounded by the
// timeout, which starts to count once the call's recorded duration
// (lasted) or, for a WebSocket, its hold has passed. The bound is the
// call's Timeout, not a context of its own: the driver sets it as a
// deadline, where a context.WithTimeout per request allocated a context
// and a timer each time.
func (r *Replayer) send(ctx context.Context, key connKey, drv protocol.Driver, call *protocol.Call, lasted time.Duration) (*protocol.Reply, error) {
	conn, err := r.conns.get(key, drv)
	if err != nil {
		now := call.Clock()
		return &protocol.Reply{GRPCStatus: -1, Sent: now, FirstByte: now, Done: now}, err
	}
	call.Timeout = r.cfg.timeout + max(call.Hold, lasted)
	rep, err := conn.Do(ctx, call)
	if rep == nil {
		now := call.Clock()
		rep = &protocol.Reply{GRPCStatus: -1, Sent: now, FirstByte: now, Done: now}
	}
	return rep, err
}

// captureMessage returns the hook that captures the live values a stream
// issues as its messages arrive, so that a consumer started while the
// stream is still open (an unordered use) can have them; nil when the
// node issues none from messages.
func (r *Replayer) captureMessage(node int, ex *rprpb.Exchange) func(int, *rprpb.Message) {
	type want struct {
		corr  int32
		index int
	}
	var ws []want
	for _, ci := range r.producesOf(node) {
		c := r.plan.Correlations[ci]
		if c.Source.At.Part != plan.PartGRPC && c.Source.At.Part != plan.PartWebSocket {
			continue
		}
		if i, ok := liveIndex(c, ex); ok {
			ws = append(ws, want{ci, i})
		}
	}
	if len(ws) == 0 {
		return nil
	}
	return func(i int, m *rprpb.Message) {
		for _, w := range ws {
			if w.index != i {
				continue
			}
			if v, ok := liveMessageValue(r.plan.Correlations[w.corr], ex, m); ok {
				r.live[w.corr].Store(&v)
			}
		}
	}
}

// Progress is a live view of a running replay, for progress bars.
type Progress struct {
	Planned, Done, Sent, Errors, Dropped int
	InFlight                             int
	Elapsed                              time.Duration
	LatencyP99, LagP99                   time.Duration
}

// Progress returns the figures so far; safe to call while Run runs.
func (r *Replayer) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.col.sum
	p := Progress{Planned: s.Requests.Planned, Sent: s.Requests.Sent, Dropped: s.Requests.Dropped,
		Errors: s.Errors.Total(), InFlight: int(r.inFlight.Load())}
	p.Done = s.Requests.Sent + s.Requests.Dropped + s.Requests.Unsupported + s.Requests.Unbuilt
	if !r.t0.IsZero() {
		p.Elapsed = time.Since(r.t0)
	}
	if r.col.latency.h.TotalCount() > 0 {
		p.LatencyP99 = r.col.latency.quantile(99)
		p.LagP99 = r.col.lag.quantile(99)
	}
	return p
}

// substitute puts the live values of the correlations node sends into its
// request, all at once (outRequest.substituteAll), counting each use
// substituted or flagging it unresolved: no live value yet, or none of
// the recorded one where the plan located it.
func (r *Replayer) substitute(o *outRequest, node int, res *rprpb.Result) {
	uses := r.usesOf(node)
	if len(uses) == 0 {
		return
	}
	subs := make([]sub, 0, len(uses))
	of := make([]int, len(uses)) // use i is subs[of[i]], or has no live value (-1)
	for i, u := range uses {
		of[i] = -1
		if live := r.live[u.corr].Load(); live != nil {
			of[i] = len(subs)
			subs = append(subs, sub{at: u.at, old: r.plan.Correlations[u.corr].Value, live: *live})
		}
	}
	applied := o.substituteAll(subs)
	for i, u := range uses {
		if of[i] >= 0 && applied[of[i]] {
			res.Substituted++
		} else {
			res.Unresolved = append(res.Unresolved, corrTag(u.corr, r.plan.Correlations[u.corr], u.at))
		}
	}
}
