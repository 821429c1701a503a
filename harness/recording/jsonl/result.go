package jsonl

import (
	"math"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// resultView is the JSON shape of rprpb.Result. Like an exchange, it carries
// the integer offsets (authoritative) and, beside them, derived figures for
// people: start is the intended send time as wall time, latency_ms is
// done − intended (corrected for coordinated omission), service_ms done −
// sent and lag_ms sent − intended.
//
// sent_ns, first_byte_ns and done_ns are written only when set: a dropped
// request has none of them, and a latency computed from a zero done time
// would be a large negative number that means nothing.
type resultView struct {
	Kind        string    `json:"kind"`
	ExchangeID  uint64    `json:"exchange_id"`
	Clone       uint32    `json:"clone,omitempty"`
	Session     string    `json:"session"`
	Method      string    `json:"method,omitempty"`
	Route       string    `json:"route,omitempty"`
	Start       string    `json:"start,omitempty"`
	LatencyMS   *float64  `json:"latency_ms,omitempty"`
	ServiceMS   *float64  `json:"service_ms,omitempty"`
	LagMS       *float64  `json:"lag_ms,omitempty"`
	IntendedNS  *int64    `json:"intended_ns,omitempty"`
	SentNS      *int64    `json:"sent_ns,omitempty"`
	FirstByteNS *int64    `json:"first_byte_ns,omitempty"`
	DoneNS      *int64    `json:"done_ns,omitempty"`
	Status      int32     `json:"status"`
	GRPCStatus  int32     `json:"grpc_status"`
	Error       string    `json:"error,omitempty"`
	Failed      bool      `json:"failed,omitempty"`
	Dropped     bool      `json:"dropped,omitempty"`
	Unresolved  []string  `json:"unresolved,omitempty"`
	Substituted uint32    `json:"substituted,omitempty"`
	Diff        *diffView `json:"diff,omitempty"`
	Proto       string    `json:"protobuf,omitempty"`

	// Backing storage for the pointers above, as in exchangeView.
	diff                  diffView
	latency, service, lag float64
}

// diffView is rprpb.ResponseDiff. body_size_ratio is always written, so that
// 0 ("unknown") and a negative zero survive.
type diffView struct {
	StatusClassChanged bool    `json:"status_class_changed,omitempty"`
	JSONShapeChanged   bool    `json:"json_shape_changed,omitempty"`
	BodySizeRatio      float64 `json:"body_size_ratio"`
}

// fill sets v from r. It reports false when the view cannot carry r (a
// body_size_ratio that JSON has no number for); the caller then adds the
// protobuf.
func (v *resultView) fill(r *rprpb.Result, anchor int64) bool {
	*v = resultView{
		Kind:        KindResult,
		ExchangeID:  r.ExchangeId,
		Clone:       r.Clone,
		Session:     r.Session,
		Method:      r.Method,
		Route:       r.Route,
		Start:       wall(anchor, r.IntendedNs),
		IntendedNS:  &r.IntendedNs,
		Status:      r.Status,
		GRPCStatus:  r.GrpcStatus,
		Error:       r.Error,
		Failed:      r.Failed,
		Dropped:     r.Dropped,
		Unresolved:  r.Unresolved,
		Substituted: r.Substituted,
	}
	if r.SentNs != 0 {
		v.SentNS = &r.SentNs
		v.lag = millis(r.SentNs - r.IntendedNs)
		v.LagMS = &v.lag
	}
	if r.FirstByteNs != 0 {
		v.FirstByteNS = &r.FirstByteNs
	}
	if r.DoneNs != 0 {
		v.DoneNS = &r.DoneNs
		v.latency = millis(r.DoneNs - r.IntendedNs)
		v.LatencyMS = &v.latency
		if r.SentNs != 0 {
			v.service = millis(r.DoneNs - r.SentNs)
			v.ServiceMS = &v.service
		}
	}
	ok := true
	if d := r.Diff; d != nil {
		v.diff = diffView{
			StatusClassChanged: d.StatusClassChanged,
			JSONShapeChanged:   d.JsonShapeChanged,
			BodySizeRatio:      d.BodySizeRatio,
		}
		if math.IsNaN(d.BodySizeRatio) || math.IsInf(d.BodySizeRatio, 0) {
			v.diff.BodySizeRatio = 0
			ok = false
		}
		v.Diff = &v.diff
	}
	return ok
}

func millis(ns int64) float64 { return float64(ns) / 1e6 }

func (v *resultView) result(anchor int64) (*rprpb.Result, error) {
	r := &rprpb.Result{
		ExchangeId:  v.ExchangeID,
		Clone:       v.Clone,
		Session:     v.Session,
		Method:      v.Method,
		Route:       v.Route,
		Status:      v.Status,
		GrpcStatus:  v.GRPCStatus,
		Error:       v.Error,
		Failed:      v.Failed,
		Dropped:     v.Dropped,
		Unresolved:  v.Unresolved,
		Substituted: v.Substituted,
	}
	var err error
	switch {
	case v.IntendedNS != nil:
		r.IntendedNs = *v.IntendedNS
	case v.Start != "":
		if r.IntendedNs, err = parseWall("start", v.Start, anchor); err != nil {
			return nil, err
		}
	}
	switch {
	case v.SentNS != nil:
		r.SentNs = *v.SentNS
	case v.LagMS != nil:
		if r.SentNs, err = addMillis("lag_ms", r.IntendedNs, *v.LagMS); err != nil {
			return nil, err
		}
	}
	if v.FirstByteNS != nil {
		r.FirstByteNs = *v.FirstByteNS
	}
	switch {
	case v.DoneNS != nil:
		r.DoneNs = *v.DoneNS
	case v.LatencyMS != nil:
		if r.DoneNs, err = addMillis("latency_ms", r.IntendedNs, *v.LatencyMS); err != nil {
			return nil, err
		}
	case v.ServiceMS != nil && r.SentNs != 0:
		if r.DoneNs, err = addMillis("service_ms", r.SentNs, *v.ServiceMS); err != nil {
			return nil, err
		}
	}
	if len(r.Unresolved) == 0 {
		r.Unresolved = nil
	}
	if d := v.Diff; d != nil {
		r.Diff = &rprpb.ResponseDiff{
			StatusClassChanged: d.StatusClassChanged,
			JsonShapeChanged:   d.JSONShapeChanged,
			BodySizeRatio:      d.BodySizeRatio,
		}
	}
	return r, nil
}

// resultHasUnknown is exchangeHasUnknown for a result record.
func resultHasUnknown(rec *rprpb.Record, r *rprpb.Result) bool {
	return unknown(rec) || unknown(r) || unknown(r.Diff)
}
