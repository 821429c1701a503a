package replay

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Validity thresholds (DESIGN.md): past them the generator, not the target,
// shaped the latencies, and the run cannot be trusted.
const (
	MaxLagP99       = 5 * time.Millisecond
	LateThreshold   = 100 * time.Millisecond
	MaxLateFraction = 0.01
	// MaxDropFraction bounds the planned requests never sent: dropped
	// (the run ended first) and unbuilt together.
	MaxDropFraction = 0.001
)

// Summary is the outcome of a run, written as summary.json; docs/summary.md
// documents its schema.
type Summary struct {
	// RunID names this run (random, made when it starts), so that a merge
	// can refuse one run given twice (a copy, a symlink); Runs lists the
	// runs a merged summary covers.
	RunID string   `json:"run_id,omitempty"`
	Runs  []string `json:"runs,omitempty"`
	// Plan is the replayed schedule's Fingerprint (of the whole plan when
	// sharded): runs of another recording, filters, amplification or rate
	// have another, and a merge refuses to mix them.
	Plan   string `json:"plan,omitempty"`
	Target string `json:"target"`
	// Shard is "i/N" when this run replayed one shard of a plan
	// (ShardLabel); empty for a whole plan.
	Shard     string    `json:"shard,omitempty"`
	Mode      string    `json:"mode"`
	Speed     float64   `json:"speed"`
	StartedAt time.Time `json:"started_at"`
	// DurationMS is the wall time from the first intended send to the last
	// completion.
	DurationMS float64 `json:"duration_ms"`

	Requests     RequestCounts     `json:"requests"`
	Errors       ErrorCounts       `json:"errors"`
	Latency      Quantiles         `json:"latency"`
	Lag          Quantiles         `json:"generator_lag"`
	Routes       []RouteSummary    `json:"routes"`
	Correlations CorrelationCounts `json:"correlations"`
	// TruncatedBodies counts requests whose recorded body was cut by the
	// capture cap and went out as the captured prefix.
	TruncatedBodies int `json:"truncated_bodies"`

	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

// RequestCounts count requests by fate.
type RequestCounts struct {
	Planned int `json:"planned"`
	Sent    int `json:"sent"`
	// Late counts requests sent more than LateThreshold after their
	// intended time.
	Late    int `json:"late"`
	Dropped int `json:"dropped"`
	// Unsupported counts requests of protocols no driver replays.
	Unsupported int `json:"unsupported"`
	// Unbuilt counts requests that could not be rebuilt from the
	// recording (a gRPC message whose recorded compression cannot be
	// undone, an exchange the store cannot read back): never sent, and
	// counted among the errors as Build.
	Unbuilt int `json:"unbuilt"`
}

// ErrorCounts count failed requests by class.
type ErrorCounts struct {
	Transport int `json:"transport"`
	Status4xx int `json:"status_4xx"`
	Status5xx int `json:"status_5xx"`
	GRPCNotOK int `json:"grpc_not_ok"`
	// Build counts requests that could not be rebuilt (RequestCounts.Unbuilt).
	Build      int `json:"build"`
	StatusDiff int `json:"status_class_changed"`
}

// Total is every error class except diffs, which are not failures.
func (e ErrorCounts) Total() int {
	return e.Transport + e.Status4xx + e.Status5xx + e.GRPCNotOK + e.Build
}

// Quantiles of a duration distribution, in milliseconds.
type Quantiles struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// RouteSummary is one route template's figures.
type RouteSummary struct {
	Route   string    `json:"route"`
	Count   int       `json:"count"`
	Errors  int       `json:"errors"`
	Latency Quantiles `json:"latency"`
	Service Quantiles `json:"service_time"`
	Lag     Quantiles `json:"generator_lag"`
}

// CorrelationCounts: Found is what the plan holds, Applied the values
// swapped into requests, Unresolved the uses no live response supplied.
type CorrelationCounts struct {
	Found      int `json:"found"`
	Applied    int `json:"applied"`
	Unresolved int `json:"unresolved"`
}

// Validity applies the DESIGN.md rules to a run's generator lag and
// request counts and returns the first rule broken. An unbuilt request
// counts like a dropped one: either way the target never saw a planned
// request, so a run that could not build its requests is not a
// measurement of the recording.
func Validity(lagP99 time.Duration, n RequestCounts) (bool, string) {
	notSent := n.Dropped + n.Unbuilt
	switch {
	case lagP99 > MaxLagP99:
		return false, fmt.Sprintf("generator lag p99 %s > %s: the generator fell behind", lagP99, MaxLagP99)
	case n.Sent > 0 && float64(n.Late) > MaxLateFraction*float64(n.Sent):
		return false, fmt.Sprintf("%d of %d requests (%.2f%%) sent more than %s late, limit %.0f%%",
			n.Late, n.Sent, 100*float64(n.Late)/float64(n.Sent), LateThreshold, 100*MaxLateFraction)
	case n.Planned > 0 && float64(notSent) > MaxDropFraction*float64(n.Planned):
		if n.Unbuilt == 0 {
			return false, fmt.Sprintf("%d of %d requests (%.2f%%) dropped, limit %.1f%%",
				n.Dropped, n.Planned, 100*float64(n.Dropped)/float64(n.Planned), 100*MaxDropFraction)
		}
		return false, fmt.Sprintf("%d of %d requests (%.2f%%) not sent (%d unbuilt, %d dropped), limit %.1f%%",
			notSent, n.Planned, 100*float64(notSent)/float64(n.Planned), n.Unbuilt, n.Dropped, 100*MaxDropFraction)
	}
	return true, ""
}

// Failed reports whether a run failed, whatever its validity, and why:
// nothing it planned was sent (every request unsupported, unbuilt or
// dropped), or every request it sent failed to reach the target. Such a
// run measured nothing of the target.
func (s *Summary) Failed() (bool, string) {
	n := s.Requests
	switch {
	case n.Planned > 0 && n.Sent == 0:
		return true, fmt.Sprintf("none of %d planned requests was sent (%d unsupported, %d unbuilt, %d dropped)",
			n.Planned, n.Unsupported, n.Unbuilt, n.Dropped)
	case n.Sent > 0 && s.Errors.Transport == n.Sent:
		return true, fmt.Sprintf("all %d requests failed to reach %s", n.Sent, s.Target)
	}
	return false, ""
}

// Covers is the runs whose requests the summary counts: a merged
// summary's Runs, or the run itself; none for a summary written before
// runs had ids.
func (s *Summary) Covers() []string {
	if len(s.Runs) > 0 {
		return s.Runs
	}
	if s.RunID != "" {
		return []string{s.RunID}
	}
	return nil
}

// NewRunID returns a random run id: 16 hex digits.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// WriteJSON writes the summary, indented.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// dist is a distribution of durations: an HDR histogram of microseconds
// from 1 µs to 10 min at 3 significant digits for the quantiles, and the
// exact maximum, which the histogram only knows to its bucket's top (30.2
// ms read as 30.207) and caps at 10 min.
type dist struct {
	h   *hdr.Histogram
	max time.Duration
}

func newHist() *dist {
	return &dist{h: hdr.New(1, int64(10*time.Minute/time.Microsecond), 3)}
}

func record(d *dist, v time.Duration) {
	us := max(v.Microseconds(), 1)
	_ = d.h.RecordValue(min(us, d.h.HighestTrackableValue()))
	d.max = max(d.max, v)
}

// quantile is the q-th percentile, 0 when nothing was recorded.
func (d *dist) quantile(q float64) time.Duration {
	if d.h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(d.h.ValueAtQuantile(q)) * time.Microsecond
}

func quantiles(d *dist) Quantiles {
	if d.h.TotalCount() == 0 {
		return Quantiles{}
	}
	ms := func(v time.Duration) float64 { return float64(v) / float64(time.Millisecond) }
	return Quantiles{P50: ms(d.quantile(50)), P90: ms(d.quantile(90)), P99: ms(d.quantile(99)), Max: ms(d.max)}
}

type routeStats struct {
	count, errors     int
	latency, svc, lag *dist
}

// collector turns Results into a Summary. It is owned by the results
// goroutine; Progress reads it under the replayer's lock.
type collector struct {
	sum     Summary
	routes  map[string]*routeStats
	latency *dist
	lag     *dist
	lastEnd time.Duration
}

func newCollector() *collector {
	return &collector{routes: make(map[string]*routeStats), latency: newHist(), lag: newHist()}
}

// Unsupported reports whether a Result stands for an exchange no driver
// could replay: never sent, so neither a request sent nor a latency sample.
func Unsupported(r *rprpb.Result) bool {
	return r.GetSentNs() == 0 && r.GetError() == ErrUnsupported.Error()
}

// NotSent reports whether a Result stands for a request that never reached
// a driver: unsupported, or not rebuilt. Such a Result carries only its
// intended time, so it is no latency or lag sample; neither is a dropped
// one.
func NotSent(r *rprpb.Result) bool {
	return r.GetDropped() || (r.GetSentNs() == 0 && r.GetError() != "")
}

func (c *collector) add(r *rprpb.Result) {
	s := &c.sum
	s.Correlations.Applied += int(r.GetSubstituted())
	s.Correlations.Unresolved += len(r.GetUnresolved())
	if r.GetDropped() {
		s.Requests.Dropped++
		return
	}
	if Unsupported(r) {
		s.Requests.Unsupported++
		return
	}
	if NotSent(r) {
		s.Requests.Unbuilt++
		s.Errors.Build++
		return
	}
	s.Requests.Sent++
	rs := c.routes[r.GetRoute()]
	if rs == nil {
		rs = &routeStats{latency: newHist(), svc: newHist(), lag: newHist()}
		c.routes[r.GetRoute()] = rs
	}
	rs.count++
	lag := time.Duration(r.GetSentNs() - r.GetIntendedNs())
	lat := time.Duration(r.GetDoneNs() - r.GetIntendedNs())
	record(rs.lag, lag)
	record(c.lag, lag)
	record(rs.svc, time.Duration(r.GetDoneNs()-r.GetSentNs()))
	record(rs.latency, lat)
	record(c.latency, lat)
	if lag > LateThreshold {
		s.Requests.Late++
	}
	c.lastEnd = max(c.lastEnd, time.Duration(r.GetDoneNs()))
	failed := true
	switch st := r.GetStatus(); {
	case r.GetFailed() || r.GetError() != "" && st == 0:
		// No answer, or one cut short after its status: a body or stream
		// that a reset or a timeout ended is no answer to count as 200.
		s.Errors.Transport++
	case r.GetGrpcStatus() > 0:
		s.Errors.GRPCNotOK++
	case st >= 500:
		s.Errors.Status5xx++
	case st >= 400:
		s.Errors.Status4xx++
	default:
		failed = false
	}
	if failed {
		rs.errors++
	}
	if r.GetDiff().GetStatusClassChanged() {
		s.Errors.StatusDiff++
	}
}

// finish computes the derived figures.
func (c *collector) finish() Summary {
	s := c.sum
	s.DurationMS = float64(c.lastEnd) / float64(time.Millisecond)
	s.Latency = quantiles(c.latency)
	s.Lag = quantiles(c.lag)
	s.Routes = make([]RouteSummary, 0, len(c.routes))
	for name, rs := range c.routes {
		s.Routes = append(s.Routes, RouteSummary{Route: name, Count: rs.count, Errors: rs.errors,
			Latency: quantiles(rs.latency), Service: quantiles(rs.svc), Lag: quantiles(rs.lag)})
	}
	slices.SortFunc(s.Routes, func(a, b RouteSummary) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Route < b.Route {
			return -1
		}
		return 1
	})
	s.Valid, s.Reason = Validity(c.lag.quantile(99), s.Requests)
	return s
}
