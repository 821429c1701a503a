package testers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/compose/testers/gatewaytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// checkLeaks verifies, after every later cleanup (the fake gateway's close),
// that the test left no goroutine behind.
func checkLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// quick is a population that plays a lot in little time.
func quick(count int, d time.Duration) testers.Population {
	p := testers.DefaultPopulation()
	p.Count, p.Duration, p.MaxActions = count, d, 10_000
	p.TimeScale = 0.01
	p.DropEvery = 150 * time.Millisecond
	p.Ramp = 20 * time.Millisecond
	p.RequestTimeout = 5 * time.Second
	p.Seed = 11
	return p
}

func TestRunAgainstGateway(t *testing.T) {
	checkLeaks(t)
	gw := gatewaytest.Start(t)
	p := quick(30, 2*time.Second)
	p.Mix = testers.Mix{{testers.Casual, 0.2}, {testers.Trader, 0.3}, {testers.Grinder, 0.2}, {testers.Flaky, 0.2}, {testers.Bot, 0.1}}
	p.H2CShare = 0.3
	ts, err := p.Testers()
	require.NoError(t, err)
	byID := map[string]testers.Tester{}
	for _, tt := range ts {
		byID[tt.ID] = tt
	}

	began := time.Now()
	st, err := p.Run(context.Background(), gw.URL)
	took := time.Since(began)
	require.NoError(t, err)
	assert.Less(t, took, p.Duration+time.Second, "the run ends at its duration")
	assert.GreaterOrEqual(t, took, p.Duration-50*time.Millisecond, "an endless budget plays the whole duration")

	reqs := gw.Requests()
	total := st.Total()
	require.Equal(t, len(ts), total.Testers)
	require.Equal(t, int64(len(ts)), total.Logins, "every tester logged in")

	// Every tester logs in first, then uses its token: the fake never saw
	// an unauthenticated call.
	first := map[string]gatewaytest.Request{}
	for _, r := range reqs {
		require.NotEqual(t, http.StatusUnauthorized, r.Status, "%s %s without a token", r.Method, r.Path)
		if _, ok := first[r.Player]; !ok {
			first[r.Player] = r
		}
		tt, ok := byID[r.Player]
		require.True(t, ok, "unknown player %q", r.Player)
		require.Equal(t, tt.UserAgent, r.UserAgent)
		if tt.H2C && r.Fault == "" {
			require.Equal(t, "HTTP/2.0", r.Proto, "%s speaks h2c", tt.ID)
		} else {
			require.Equal(t, "HTTP/1.1", r.Proto, "%s speaks HTTP/1.1", tt.ID)
		}
	}
	require.Len(t, first, len(ts))
	for id, r := range first {
		assert.Equal(t, "POST /v1/login", r.Method+" "+r.Path, "%s's first request", id)
	}

	// Traders contend: the same hot item is bought by several traders
	// within one drop, and all but one get 409.
	tr := st.Profiles[testers.Trader]
	assert.Positive(t, tr.Conflicts, "traders lost buys to each other")
	buyers := map[string]map[string]bool{}
	for _, r := range reqs {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/buy") && byID[r.Player].Profile == testers.Trader {
			if buyers[r.Path] == nil {
				buyers[r.Path] = map[string]bool{}
			}
			buyers[r.Path][r.Player] = true
		}
	}
	contended := 0
	for _, who := range buyers {
		if len(who) > 1 {
			contended++
		}
	}
	assert.Positive(t, contended, "several traders targeted the same item")
	for item, owner := range gw.Owners() {
		assert.NotEmpty(t, owner, "item %d", item)
	}

	// Flaky testers inject faults, count them as intentional, and retry.
	fl := st.Profiles[testers.Flaky]
	assert.Positive(t, fl.Intentional, "flaky testers injected faults")
	assert.Positive(t, fl.Retries)
	assert.Positive(t, fl.Reconnects)
	tagged, retried := 0, 0
	for _, r := range reqs {
		if r.Fault != "" {
			tagged++
			require.Equal(t, testers.Flaky, byID[r.Player].Profile)
		}
		if r.Retry != "" {
			retried++
		}
	}
	assert.GreaterOrEqual(t, int64(tagged), fl.Intentional, "every injected fault reached the server tagged")
	assert.Positive(t, retried, "retries are tagged")
	for _, prof := range []testers.Profile{testers.Casual, testers.Trader, testers.Grinder, testers.Bot} {
		ps := st.Profiles[prof]
		assert.Zero(t, ps.Intentional, prof)
		assert.Zero(t, ps.TransportErrors, "%s: no real transport errors on loopback", prof)
		assert.Zero(t, ps.Retries, "%s: only flaky testers retry", prof)
		assert.Positive(t, ps.Requests, prof)
	}
	assert.Zero(t, fl.TransportErrors, "flaky errors are all injected here")

	// NAR traces arrive and carry the tester's own, consistent hardware.
	traces := gw.NARTraces()
	require.NotEmpty(t, traces)
	// A NAR post whose answer was lost is retried, so the server may hold
	// a trace twice; never fewer than the client counted.
	assert.GreaterOrEqual(t, int64(len(traces)), total.NARPosts)
	assert.LessOrEqual(t, int64(len(traces)), total.NARPosts+fl.Intentional+total.Interrupted)
	for _, tr := range traces {
		tt, ok := byID[tr.TesterID]
		require.True(t, ok, tr.TesterID)
		require.NoError(t, tr.Hardware.Validate())
		require.Equal(t, tt.Hardware, tr.Hardware)
		require.Equal(t, tt.Hardware.Backend, tr.Backend)
		require.False(t, tr.Time.IsZero(), "traces are stamped when sent")
	}

	// Counts add up: the fake saw every counted response.
	answered := total.Status.S1xx + total.Status.S2xx + total.Status.S3xx + total.Status.S4xx + total.Status.S5xx
	assert.Equal(t, total.Requests, answered+total.TransportErrors+total.Intentional)
	assert.GreaterOrEqual(t, int64(len(reqs)), answered)
	assert.Positive(t, st.Profiles[testers.Bot].Requests)
	t.Logf("%d requests in %s: %+v", total.Requests, took, total)
}

func TestRunStopsWhenBudgetsAreSpent(t *testing.T) {
	checkLeaks(t)
	gw := gatewaytest.Start(t)
	p := quick(12, time.Minute)
	p.MaxActions = 4
	p.Mix = testers.Mix{{testers.Bot, 1}, {testers.Grinder, 1}}
	began := time.Now()
	st, err := p.Run(context.Background(), gw.URL)
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 20*time.Second, "budgets, not the minute, end the run")
	total := st.Total()
	assert.Equal(t, int64(12*4), total.Actions)
	assert.Equal(t, int64(12*(4+1)), total.Requests, "one login and four actions each")
	assert.Len(t, gw.Requests(), 12*5)
}

func TestRunStopsOnCancel(t *testing.T) {
	checkLeaks(t)
	gw := gatewaytest.Start(t)
	p := quick(10, time.Minute)
	p.TimeScale = 1 // casual players think for seconds
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = p.Run(ctx, gw.URL)
	}()
	require.Eventually(t, func() bool { return len(gw.Requests()) >= 10 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	assert.ErrorIs(t, err, context.Canceled)
}

func TestRunRetriesServerErrors(t *testing.T) {
	checkLeaks(t)
	// Every first attempt of an action fails with 503.
	gw := gatewaytest.Start(t, gatewaytest.Fail(func(r *http.Request) bool {
		return r.URL.Path != "/v1/login" && r.Header.Get(testers.HeaderRetry) == ""
	}))
	p := quick(10, 5*time.Second)
	p.MaxActions = 5
	p.Mix = testers.Mix{{testers.Flaky, 1}, {testers.Bot, 1}}
	st, err := p.Run(context.Background(), gw.URL)
	require.NoError(t, err)
	fl, bot := st.Profiles[testers.Flaky], st.Profiles[testers.Bot]
	assert.Positive(t, fl.Status.S5xx)
	assert.GreaterOrEqual(t, fl.Retries, fl.Status.S5xx, "flaky testers retry every 5xx")
	assert.Equal(t, fl.Actions-fl.Reconnects, fl.Status.S5xx+fl.Intentional, "one failed first attempt per request")
	assert.Zero(t, bot.Retries, "bots do not retry")
	assert.Equal(t, bot.Actions, bot.Status.S5xx)
}

func TestRunRejectsBadInput(t *testing.T) {
	p := quick(1, time.Second)
	for _, target := range []string{"", "ftp://127.0.0.1/", "127.0.0.1:80", "http://", "http://127.0.0.1:1/?x=1"} {
		_, err := p.Run(context.Background(), target)
		assert.ErrorIs(t, err, testers.ErrBadTarget, target)
	}
	p.Count = 0
	_, err := p.Run(context.Background(), "http://127.0.0.1:1")
	assert.ErrorIs(t, err, testers.ErrInvalidPopulation)
}

func TestRunCountsUnreachableTarget(t *testing.T) {
	checkLeaks(t)
	gw := gatewaytest.Start(t)
	url := gw.URL
	gw.Close() // nothing listens there now
	p := quick(3, 5*time.Second)
	p.Mix = testers.Mix{{testers.Casual, 1}}
	st, err := p.Run(context.Background(), url)
	require.NoError(t, err)
	total := st.Total()
	assert.Equal(t, int64(3), total.LoginFailures)
	assert.Equal(t, int64(9), total.TransportErrors, "three login attempts each")
	assert.Zero(t, total.Actions)
}
