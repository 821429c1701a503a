package replay

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/local"
)

// TestReplayLongMixedAgainstLocalStack replays the first seconds of the
// committed long-mixed recording against a fresh reference stack. Its
// tokens were redacted at record time, so every Bearer call succeeds only
// if the live token from the replayed login was substituted. The window
// holds four won buys and their order read-backs (GET /v1/orders/{id}, the
// order id re-correlated) and ends before the first drop tick (2.395s),
// where three sessions race for one item within 2ms: when another session
// wins it in the replay, the recorded winner's read-back has no new order
// id to take (an unresolved correlation and a 404).
func TestReplayLongMixedAgainstLocalStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference stack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
	defer cancel()
	file := filepath.Join("..", "..", "testdata", "recordings", "long-mixed.rpr")
	rd, err := recording.Open(file)
	require.NoError(t, err)
	p, err := plan.BuildSeq(ctx, rd.All(), plan.Window(0, 2*time.Second))
	require.NoError(t, rd.Close())
	require.NoError(t, err)
	require.NotEmpty(t, p.Correlations, "the window holds logins and their Bearer uses")
	s, err := p.Schedule(plan.Causal, plan.Speed(4))
	require.NoError(t, err)
	rd, err = recording.Open(file)
	require.NoError(t, err)
	src, err := LoadExchanges(ctx, rd.All(), p)
	require.NoError(t, rd.Close())
	require.NoError(t, err)
	defer src.Close()

	drv := local.New(stack.ID("replay-e2e"))
	require.NoError(t, drv.Up(ctx))
	defer func() { assert.NoError(t, drv.Down(context.Background())) }()
	target := &url.URL{Scheme: "http", Host: drv.Endpoints()["gateway"].HTTP}

	dir := t.TempDir()
	sum, err := Run(ctx, s, src, target, OutDir(dir))
	require.NoError(t, err)
	t.Logf("planned %d sent %d errors %+v correlations %+v lag %+v valid=%v %s",
		sum.Requests.Planned, sum.Requests.Sent, sum.Errors, sum.Correlations, sum.Lag, sum.Valid, sum.Reason)

	results := readResults(t, dir)
	require.Len(t, results, len(p.Nodes), "one Result per planned request")
	logins, bearer, orderReads := 0, 0, 0
	for _, r := range results {
		got, err := src.recorded(r.GetExchangeId())
		require.NoError(t, err)
		ex := got.ex
		if r.GetStatus() >= 400 {
			t.Logf("exchange %d %s %s: %d (recorded %d)", r.GetExchangeId(), r.GetMethod(), r.GetRoute(), r.GetStatus(), ex.GetResponse().GetStatus())
		}
		auth := got.out.header.Get("Authorization")
		if r.GetMethod() == "GET" && r.GetRoute() == "/v1/orders/{id}" {
			orderReads++
			assert.Equal(t, int32(200), r.GetStatus(), "order read-back %d: the new order id was substituted", r.GetExchangeId())
		}
		switch {
		case r.GetRoute() == "/v1/login":
			logins++
			assert.Equal(t, int32(200), r.GetStatus(), "login %d", r.GetExchangeId())
		case strings.HasPrefix(auth, "Bearer "):
			bearer++
			assert.NotEqual(t, int32(401), r.GetStatus(), "exchange %d %s %s: live token substituted", r.GetExchangeId(), r.GetMethod(), r.GetRoute())
			assert.Empty(t, r.GetUnresolved(), "exchange %d", r.GetExchangeId())
			assert.NotZero(t, r.GetSubstituted(), "exchange %d", r.GetExchangeId())
		}
	}
	assert.Positive(t, logins)
	assert.Positive(t, bearer)
	assert.Positive(t, orderReads, "the window holds order read-backs")
	assert.Positive(t, sum.Correlations.Applied)
	assert.Zero(t, sum.Correlations.Unresolved)
	assert.Zero(t, sum.Errors.Transport)
	assert.Zero(t, sum.Requests.Dropped)
	assert.Equal(t, len(p.Nodes), sum.Requests.Sent)
}
