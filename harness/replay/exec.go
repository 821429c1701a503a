package replay

import (
	"context"
	"errors"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// do replays one node and returns its Result. Live values its response
// issues are captured before it returns, so successors released by its
// completion see them.
func (r *Replayer) do(ctx context.Context, d plan.Due) *rprpb.Result {
	n := r.plan.Nodes[d.Node]
	ex := r.src[n.ID]
	key := connKey{n.Session, n.Connection}
	defer r.drv.release(key)
	res := &rprpb.Result{ExchangeId: n.ID, Session: n.Session, Method: n.Method, Route: n.Route,
		IntendedNs: int64(d.At), GrpcStatus: -1}
	switch ex.GetProtocol() {
	case rprpb.Protocol_PROTOCOL_GRPC, rprpb.Protocol_PROTOCOL_WEBSOCKET:
		res.Error = ErrUnsupported.Error()
		return res
	}
	o := rebuild(ex)
	for _, u := range r.uses[d.Node] {
		c := r.plan.Correlations[u.corr]
		live := r.live[u.corr].Load()
		if live == nil {
			res.Unresolved = append(res.Unresolved, corrTag(u.corr, c, u.at))
			continue
		}
		if o.substitute(u.at, c.Value, *live) {
			res.Substituted++
		} else {
			res.Unresolved = append(res.Unresolved, corrTag(u.corr, c, u.at))
		}
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
	status, live, size, t, err := r.drv.send(ctx, r.drv.transport(key, ex.GetProtocol()), o, since)
	res.SentNs, res.FirstByteNs, res.DoneNs = int64(t.sent), int64(t.firstByte), int64(t.done)
	res.Status = int32(status)
	if err != nil {
		res.Error = err.Error()
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			res.Error = "aborted: run ended"
		}
	}
	if status == 0 {
		return res
	}
	res.Diff = diffResponse(ex, status, live, size)
	for _, ci := range r.produces[d.Node] {
		if v, ok := liveValue(r.plan.Correlations[ci], ex, live); ok {
			r.live[ci].Store(&v)
		}
	}
	return res
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
	p.Done = s.Requests.Sent + s.Requests.Dropped + s.Requests.Unsupported
	if !r.t0.IsZero() {
		p.Elapsed = time.Since(r.t0)
	}
	if r.col.latency.TotalCount() > 0 {
		p.LatencyP99 = time.Duration(r.col.latency.ValueAtQuantile(99)) * time.Microsecond
		p.LagP99 = time.Duration(r.col.lag.ValueAtQuantile(99)) * time.Microsecond
	}
	return p
}
