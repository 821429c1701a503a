package results

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

// RelativeAccuracy of every sketch: a quantile read from a sketch is within
// 1% of the exact value at that rank.
const RelativeAccuracy = 0.01

// ErrMismatch: two sketches cannot be merged (different index mappings).
var ErrMismatch = errors.New("results: sketches are not mergeable")

// newMapping is the one index mapping every sketch uses: logarithmic, no
// interpolation, the form any DDSketch implementation reads.
func newMapping() mapping.IndexMapping {
	m, err := mapping.NewLogarithmicMapping(RelativeAccuracy)
	if err != nil { // a constant accuracy in (0, 1) never fails
		panic(err)
	}
	return m
}

var theMapping = newMapping()

// Distribution is a DDSketch of durations in milliseconds, with the exact
// count, minimum, maximum and sum kept beside it.
type Distribution struct {
	sk       *ddsketch.DDSketch
	n        int64
	min, max float64
	sum      float64
}

func newDistribution() *Distribution {
	return &Distribution{sk: ddsketch.NewDDSketchFromStoreProvider(theMapping, store.DefaultProvider)}
}

// add records one duration.
func (d *Distribution) add(v time.Duration) {
	ms := float64(v) / float64(time.Millisecond)
	// Durations are finite and far below the mapping's largest indexable
	// value, so the sketch cannot refuse them.
	_ = d.sk.Add(ms)
	if d.n == 0 || ms < d.min {
		d.min = ms
	}
	if d.n == 0 || ms > d.max {
		d.max = ms
	}
	d.n++
	d.sum += ms
}

func (d *Distribution) merge(o *Distribution) error {
	if o == nil || o.n == 0 {
		return nil
	}
	if err := d.sk.MergeWith(o.sk); err != nil {
		return fmt.Errorf("%w: %w", ErrMismatch, err)
	}
	if d.n == 0 || o.min < d.min {
		d.min = o.min
	}
	if d.n == 0 || o.max > d.max {
		d.max = o.max
	}
	d.n += o.n
	d.sum += o.sum
	return nil
}

// Count is the number of durations recorded.
func (d *Distribution) Count() int64 { return d.n }

// Max is the exact largest duration, in milliseconds (0 when empty).
func (d *Distribution) Max() float64 { return d.max }

// Quantile returns the duration in milliseconds at quantile q in [0, 1],
// within RelativeAccuracy of the exact value at rank q×(count−1); 0 when
// the distribution is empty.
func (d *Distribution) Quantile(q float64) float64 {
	if d.n == 0 {
		return 0
	}
	v, err := d.sk.GetValueAtQuantile(q)
	if err != nil || math.IsNaN(v) {
		return 0
	}
	// The bin's representative value may overshoot the exact extremes.
	return min(max(v, d.min), d.max)
}

// Quantiles are the summary's p50/p90/p99 from the sketch and the exact max.
func (d *Distribution) Quantiles() replay.Quantiles {
	if d.n == 0 {
		return replay.Quantiles{}
	}
	return replay.Quantiles{P50: d.Quantile(0.50), P90: d.Quantile(0.90), P99: d.Quantile(0.99), Max: d.max}
}

// Set is the three distributions of one route, or of the whole run.
type Set struct {
	Latency *Distribution // done − intended
	Service *Distribution // done − sent
	Lag     *Distribution // sent − intended
}

func newSet() *Set {
	return &Set{Latency: newDistribution(), Service: newDistribution(), Lag: newDistribution()}
}

func (s *Set) merge(o *Set) error {
	if err := s.Latency.merge(o.Latency); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	if err := s.Service.merge(o.Service); err != nil {
		return fmt.Errorf("service_time: %w", err)
	}
	if err := s.Lag.merge(o.Lag); err != nil {
		return fmt.Errorf("generator_lag: %w", err)
	}
	return nil
}

// Count is the number of requests in the set.
func (s *Set) Count() int64 { return s.Latency.Count() }

// Sketches are a run's mergeable latency figures: one Set for the whole run
// and one per route template. The zero value is not usable; call New. Not
// safe for concurrent use: one goroutine adds, as the replayer's results
// goroutine does.
type Sketches struct {
	overall *Set
	routes  map[string]*Set
}

// New returns empty sketches.
func New() *Sketches { return &Sketches{overall: newSet(), routes: make(map[string]*Set)} }

// Samples reports whether a Result is a latency sample. It mirrors the
// replayer's collector (replay.NotSent): dropped, unsupported and
// unbuilt requests were never sent and have no latency.
func Samples(r *rprpb.Result) bool { return !replay.NotSent(r) }

// Add records one Result; results that are not latency samples are ignored.
func (s *Sketches) Add(r *rprpb.Result) {
	if !Samples(r) {
		return
	}
	rs := s.routes[r.GetRoute()]
	if rs == nil {
		rs = newSet()
		s.routes[r.GetRoute()] = rs
	}
	lat := time.Duration(r.GetDoneNs() - r.GetIntendedNs())
	svc := time.Duration(r.GetDoneNs() - r.GetSentNs())
	lag := time.Duration(r.GetSentNs() - r.GetIntendedNs())
	for _, set := range []*Set{s.overall, rs} {
		set.Latency.add(lat)
		set.Service.add(svc)
		set.Lag.add(lag)
	}
}

// Merge adds other's samples to s; other is left unchanged.
func (s *Sketches) Merge(other *Sketches) error {
	if other == nil {
		return nil
	}
	if err := s.overall.merge(other.overall); err != nil {
		return fmt.Errorf("results: merge overall %w", err)
	}
	for name, o := range other.routes {
		rs := s.routes[name]
		if rs == nil {
			rs = newSet()
			s.routes[name] = rs
		}
		if err := rs.merge(o); err != nil {
			return fmt.Errorf("results: merge route %q %w", name, err)
		}
	}
	return nil
}

// Overall is the whole run's Set.
func (s *Sketches) Overall() *Set { return s.overall }

// Route returns one route template's Set, or nil.
func (s *Sketches) Route(name string) *Set { return s.routes[name] }

// Routes returns the route templates, sorted.
func (s *Sketches) Routes() []string { return slices.Sorted(maps.Keys(s.routes)) }

// LagP99 is the generator lag p99 that replay.Validity takes, to the
// microsecond as the replayer's histograms hold it.
func (s *Sketches) LagP99() time.Duration {
	if s.overall.Lag.Count() == 0 {
		return 0
	}
	return time.Duration(s.overall.Lag.Quantile(0.99) * float64(time.Millisecond)).Round(time.Microsecond)
}

// Apply overwrites the summary's quantiles (overall and per route) with the
// sketches' and appends any route the summary lacks.
func (s *Sketches) Apply(sum *replay.Summary) {
	sum.Latency = s.overall.Latency.Quantiles()
	sum.Lag = s.overall.Lag.Quantiles()
	seen := make(map[string]bool, len(sum.Routes))
	for i := range sum.Routes {
		r := &sum.Routes[i]
		seen[r.Route] = true
		if set := s.routes[r.Route]; set != nil {
			r.Latency, r.Service, r.Lag = set.Latency.Quantiles(), set.Service.Quantiles(), set.Lag.Quantiles()
		}
	}
	for _, name := range s.Routes() {
		if seen[name] {
			continue
		}
		set := s.routes[name]
		sum.Routes = append(sum.Routes, replay.RouteSummary{Route: name, Count: int(set.Count()),
			Latency: set.Latency.Quantiles(), Service: set.Service.Quantiles(), Lag: set.Lag.Quantiles()})
	}
	sortRoutes(sum.Routes)
}

// sortRoutes orders routes busiest first, then by name, as the replayer does.
func sortRoutes(rs []replay.RouteSummary) {
	slices.SortFunc(rs, func(a, b replay.RouteSummary) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		switch {
		case a.Route < b.Route:
			return -1
		case a.Route > b.Route:
			return 1
		}
		return 0
	})
}
