package plan_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func synthPlan(t testing.TB, n int, seed uint64) *plan.Plan {
	t.Helper()
	p, err := plan.Build(synthetic(n, seed))
	require.NoError(t, err)
	return p
}

// replay drives a Run the way an open-model executor does, with each
// request taking service(i) from the moment it is due, and returns when
// each was sent and done. It also checks the Run's bookkeeping.
func replay(t *testing.T, s *plan.Schedule, service func(i int) time.Duration) (sent, done []time.Duration) {
	t.Helper()
	n := len(s.Plan().Nodes)
	sent = make([]time.Duration, n)
	done = make([]time.Duration, n)
	run, due := s.NewRun()
	queue := due
	for steps := 0; len(queue) > 0; steps++ {
		if steps > n {
			t.Fatalf("more releases than the %d nodes", n)
		}
		d := queue[0]
		queue = queue[1:]
		sent[d.Node] = d.At
		done[d.Node] = d.At + service(d.Node)
		next, err := run.Done(d.Node, done[d.Node])
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, next...)
	}
	require.Equal(t, 0, run.Remaining(), "every node was released")
	return sent, done
}

func TestCausalScheduleProperties(t *testing.T) {
	p := synthPlan(t, 3000, 7)
	for _, speed := range []float64{0.5, 1, 4} {
		s, err := p.Schedule(plan.Causal, plan.Speed(speed))
		require.NoError(t, err)
		// A target that is sometimes far slower than recorded.
		slow := func(i int) time.Duration { return p.Nodes[i].Service() * time.Duration(1+i%3) }
		sent, done := replay(t, s, slow)
		origin := p.Nodes[0].Start
		for i, n := range p.Nodes {
			rec := time.Duration(float64(n.Start-origin) / speed)
			assert.GreaterOrEqual(t, sent[i], rec-1, "node %d before its recorded offset ÷ speed", i)
			for _, e := range p.Preds(i) {
				think := time.Duration(float64(p.Think(e)) / speed)
				assert.GreaterOrEqual(t, sent[i], done[e.From]+think-1, "node %d before pred %d done + think", i, e.From)
			}
		}
	}
}

func TestSimulationAtRecordedServiceMatchesRecording(t *testing.T) {
	p := synthPlan(t, 2000, 3)
	s, err := p.Schedule(plan.Causal)
	require.NoError(t, err)
	intended, _ := s.Simulate()
	origin := p.Nodes[0].Start
	for i, n := range p.Nodes {
		assert.Equal(t, n.Start-origin, intended[i], "a target as fast as recorded is replayed exactly as recorded")
	}
	st := s.Stats()
	assert.Equal(t, st.RecordedDuration, st.ExpectedDuration)
	assert.Equal(t, st.RecordedPeak, st.PeakConcurrency)
}

func TestASAPIgnoresTimeButKeepsDependencies(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "127.0.0.1", method: "POST", path: "/v1/login", startMs: 1000, endMs: 1005,
			respBody: `{"token":"` + tok + `"}`},
		ex{id: 2, session: "t", path: "/v1/items", startMs: 2000, endMs: 2010,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + tok}}},
		ex{id: 3, session: "u", path: "/v1/other", startMs: 3000, endMs: 3001},
	)
	s, err := p.Schedule(plan.ASAP)
	require.NoError(t, err)
	sent, _ := replay(t, s, func(i int) time.Duration { return p.Nodes[i].Service() })
	assert.Equal(t, []time.Duration{0, 5 * time.Millisecond, 0}, sent)

	rec, err := p.Schedule(plan.Recorded, plan.Speed(2))
	require.NoError(t, err)
	sent, _ = replay(t, rec, func(int) time.Duration { return time.Hour })
	assert.Equal(t, []time.Duration{0, 500 * time.Millisecond, 1000 * time.Millisecond}, sent,
		"recorded mode ignores a slow predecessor")
}

func TestRateRespacesSessionsKeepingThemIntact(t *testing.T) {
	var exs []ex
	for s := range 4 {
		sess := string(rune('a' + s))
		base := int64(s) * 10 // recorded 10 ms apart
		exs = append(exs,
			ex{id: uint64(2*s + 1), session: sess, path: "/x", startMs: base, endMs: base + 1},
			ex{id: uint64(2*s + 2), session: sess, path: "/y", startMs: base + 3, endMs: base + 4},
		)
	}
	p := build(t, exs...)
	s, err := p.Schedule(plan.Rate, plan.SessionRate(2)) // one session every 500 ms
	require.NoError(t, err)
	for i, n := range p.Nodes {
		nc := p.Call(i)
		k := time.Duration(nc.Session[0]-'a') * 500 * time.Millisecond
		want := k
		if n.ID%2 == 0 {
			want += 3 * time.Millisecond
		}
		assert.Equal(t, want, s.Base(i), "node %d", n.ID)
	}
	curve, err := p.Schedule(plan.Rate, plan.RateCurve(
		plan.RatePoint{At: 0, PerSecond: 1}, plan.RatePoint{At: 2 * time.Second, PerSecond: 10}))
	require.NoError(t, err)
	var starts []time.Duration
	for i, n := range p.Nodes {
		if n.ID%2 == 1 {
			starts = append(starts, curve.Base(i))
		}
	}
	assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 2100 * time.Millisecond}, starts)

	_, err = p.Schedule(plan.Rate)
	assert.ErrorIs(t, err, plan.ErrNoRate)
	_, err = p.Schedule(plan.Causal, plan.Speed(0))
	assert.ErrorIs(t, err, plan.ErrBadOption)
	_, err = p.Schedule(plan.Rate, plan.RateCurve(plan.RatePoint{At: time.Second, PerSecond: 1}))
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func TestRunRejectsDoubleDone(t *testing.T) {
	p := build(t, ex{id: 1, session: "s", path: "/a", startMs: 0, endMs: 1})
	s, err := p.Schedule(plan.Causal)
	require.NoError(t, err)
	run, due := s.NewRun()
	require.Len(t, due, 1)
	_, err = run.Done(0, time.Millisecond)
	require.NoError(t, err)
	_, err = run.Done(0, time.Millisecond)
	assert.ErrorIs(t, err, plan.ErrDone)
	_, err = run.Done(5, 0)
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func TestReadyWaitsForEveryPredecessor(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", path: "/a", startMs: 0, endMs: 10, respBody: `{"id":"obj-0001a"}`},
		ex{id: 2, session: "s", path: "/b", startMs: 11, endMs: 12},
		ex{id: 3, session: "s", path: "/c/obj-0001a", startMs: 20, endMs: 21},
	)
	s, err := p.Schedule(plan.Causal)
	require.NoError(t, err)
	done := map[int]time.Duration{}
	lookup := func(i int) (time.Duration, bool) { d, ok := done[i]; return d, ok }
	_, ok := s.Ready(2, lookup)
	assert.False(t, ok)
	done[1] = 50 * time.Millisecond
	at, ok := s.Ready(2, lookup)
	require.True(t, ok, "3 waits for 2 only: 1 is implied through it")
	assert.Equal(t, 58*time.Millisecond, at, "done(2) + think 8ms")
	assert.Equal(t, plan.Causal.String(), s.Mode().String())
	m, err := plan.ParseMode("ASAP")
	require.NoError(t, err)
	assert.Equal(t, plan.ASAP, m)
	_, err = plan.ParseMode("fast")
	assert.ErrorIs(t, err, plan.ErrBadOption)
}
