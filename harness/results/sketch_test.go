package results

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

// durations returns the exact latency, service time and lag of the sampled
// results, overall or of one route, in ms.
func durations(rs []*rprpb.Result, route string) (lat, svc, lag []float64) {
	for _, r := range rs {
		if !Samples(r) || (route != "" && r.Route != route) {
			continue
		}
		lat = append(lat, float64(r.DoneNs-r.IntendedNs)/1e6)
		svc = append(svc, float64(r.DoneNs-r.SentNs)/1e6)
		lag = append(lag, float64(r.SentNs-r.IntendedNs)/1e6)
	}
	return lat, svc, lag
}

func TestSketchQuantilesWithinRelativeAccuracy(t *testing.T) {
	rs := genResults(7, 50, 60)
	sk := New()
	for _, r := range rs {
		sk.Add(r)
	}
	check := func(set *Set, route string) {
		lat, svc, lag := durations(rs, route)
		require.NotEmpty(t, lat)
		require.EqualValues(t, len(lat), set.Count())
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
			within(t, exactQuantile(lat, q), set.Latency.Quantile(q), route+" latency")
			within(t, exactQuantile(svc, q), set.Service.Quantile(q), route+" service")
			within(t, exactQuantile(lag, q), set.Lag.Quantile(q), route+" lag")
		}
		assert.Equal(t, exactQuantile(lat, 1), set.Latency.Quantiles().Max, "max is exact")
	}
	check(sk.Overall(), "")
	assert.Equal(t, routes, sk.Routes())
	for _, name := range sk.Routes() {
		check(sk.Route(name), name)
	}
}

func TestSamplesFollowsTheCollectorRules(t *testing.T) {
	sk := New()
	sk.Add(&rprpb.Result{Route: "/a", Dropped: true, IntendedNs: 5})
	sk.Add(&rprpb.Result{Route: "/a", Error: replay.ErrUnsupported.Error()})
	assert.Zero(t, sk.Overall().Count(), "dropped and unsupported are not latency samples")
	assert.Nil(t, sk.Route("/a"))

	// A transport failure was sent: its latency counts.
	sk.Add(&rprpb.Result{Route: "/a", Error: "connection refused", IntendedNs: 0, SentNs: int64(time.Millisecond), DoneNs: int64(3 * time.Millisecond)})
	require.EqualValues(t, 1, sk.Overall().Count())
	assert.InDelta(t, 3, sk.Route("/a").Latency.Quantile(0.5), 0.03)
	assert.InDelta(t, 2, sk.Route("/a").Service.Quantile(0.5), 0.02)
	assert.InDelta(t, 1, sk.Route("/a").Lag.Quantile(0.5), 0.01)
	assert.Equal(t, time.Duration(0), New().LagP99(), "no samples, no lag")
}

func TestMergeOfPartsEqualsTheWhole(t *testing.T) {
	rs := genResults(11, 30, 40)
	whole, parts := New(), []*Sketches{New(), New(), New()}
	for i, r := range rs {
		whole.Add(r)
		parts[i%3].Add(r)
	}
	before := parts[1].Overall().Latency.Quantiles()
	beforeN := parts[1].Overall().Count()
	merged := New()
	for _, p := range parts {
		require.NoError(t, merged.Merge(p))
	}
	require.NoError(t, merged.Merge(nil))
	assert.Equal(t, whole.Routes(), merged.Routes())
	for _, name := range append(whole.Routes(), "") {
		w, m := whole.Overall(), merged.Overall()
		if name != "" {
			w, m = whole.Route(name), merged.Route(name)
		}
		assert.Equal(t, w.Count(), m.Count(), name)
		assert.Equal(t, w.Latency.Quantiles(), m.Latency.Quantiles(), name)
		assert.Equal(t, w.Service.Quantiles(), m.Service.Quantiles(), name)
		assert.Equal(t, w.Lag.Quantiles(), m.Lag.Quantiles(), name)
	}
	assert.Equal(t, whole.LagP99(), merged.LagP99())
	assert.Equal(t, before, parts[1].Overall().Latency.Quantiles(), "a merged part is left unchanged")
	assert.Equal(t, beforeN, parts[1].Overall().Count())
}

func TestApplyFillsQuantilesAndSortsRoutes(t *testing.T) {
	sk := New()
	add := func(route string, ms ...int) {
		for _, v := range ms {
			sk.Add(&rprpb.Result{Route: route, SentNs: 1, DoneNs: int64(v) * int64(time.Millisecond)})
		}
	}
	add("/b", 10, 20)
	add("/a", 1, 2, 3)
	sum := replay.Summary{Routes: []replay.RouteSummary{{Route: "/b", Count: 2, Errors: 1}}}
	sk.Apply(&sum)
	require.Len(t, sum.Routes, 2)
	assert.Equal(t, "/a", sum.Routes[0].Route, "busiest first")
	assert.Equal(t, 3, sum.Routes[0].Count, "a route the summary lacked is added")
	assert.Equal(t, 1, sum.Routes[1].Errors, "existing figures are kept")
	assert.InEpsilon(t, 20, sum.Routes[1].Latency.Max, 1e-9)
	assert.InEpsilon(t, 20, sum.Latency.Max, 1e-9)
	within(t, 3, sum.Latency.P50, "overall p50")
}
