package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/local"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// shared is the one recording the tests replay, made by the first test that
// needs it; the tests of a package run one after another.
var shared struct {
	once sync.Once
	dir  string
	rec  *recorded
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// items is the catalogue size of every stack here, large enough that the
// population below never needs two players to want one item.
const items = 500

// population is the recorded traffic: traders sniping at shared drop ticks
// and reading their orders back, grinders advancing missions, casual
// players; no flaky testers (their injected faults are the proxy tests'
// business) and no bots (their load would only slow the tests).
func population() testers.Population {
	p := testers.DefaultPopulation()
	p.Count = 8
	// The action budget, not the duration, ends the run (after about 8 s):
	// a request cut off by the end of a run would be recorded without its
	// answer.
	p.Duration = 30 * time.Second
	p.MaxActions = 20
	p.Mix = testers.Mix{{Profile: testers.Trader, Weight: 0.5}, {Profile: testers.Grinder, Weight: 0.25}, {Profile: testers.Casual, Weight: 0.25}}
	p.Items, p.HotSet = items, 50
	p.Missions = 3
	p.DropEvery = 400 * time.Millisecond
	p.Ramp = 200 * time.Millisecond
	p.TimeScale = 0.1
	p.RequestTimeout = 5 * time.Second
	p.Seed = contentionFreeSeed(p)
	return p
}

// contentionFreeSeed returns the first seed under which no item is in the
// buy actions of two different testers. Scripts are seeded and MaxActions
// bounds them, so this holds for the whole run whatever its timing: which
// buy wins never depends on who got there first, and a replay must see
// every recorded purchase succeed again.
func contentionFreeSeed(p testers.Population) uint64 {
	for seed := uint64(1); seed < 10_000; seed++ {
		p.Seed = seed
		ts, err := p.Testers()
		if err != nil {
			return 0 // Validate names the problem when the test runs it
		}
		wanted := map[int]string{}
		clash := false
		for _, t := range ts {
			for _, a := range p.Script(t).Actions(p.MaxActions) {
				if a.Kind != testers.Buy {
					continue
				}
				if who, ok := wanted[a.Item]; ok && who != t.ID {
					clash = true
				}
				wanted[a.Item] = t.ID
			}
		}
		if !clash {
			return seed
		}
	}
	return 0
}

// recorded is a recording made through the proxy and what went into it.
type recorded struct {
	path      string
	pop       testers.Population
	stats     testers.Stats
	exchanges []*rprpb.Exchange
}

// recordingOnce returns the shared recording, making it on first use.
func recordingOnce(t *testing.T) *recorded {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "reprise-e2e-")
		if shared.err == nil {
			shared.rec = record(t, filepath.Join(shared.dir, "testers.rpr"), population())
		}
	})
	require.NoError(t, shared.err)
	require.NotNil(t, shared.rec, "recording fresh tester traffic failed in an earlier test")
	return shared.rec
}

// record plays pop through a recording proxy in front of a stack of its own,
// which it takes down again, and returns the recording written to path.
func record(t *testing.T, path string, pop testers.Population) *recorded {
	t.Helper()
	require.NotZero(t, pop.Seed, "no contention-free seed found for the population")
	// The first Up of a process builds the services (cached across runs),
	// which on a loaded machine takes longer than the traffic.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	drv := local.New(stack.ID("e2e-record"), stack.Env("ITEMS", fmt.Sprint(items)))
	require.NoError(t, drv.Up(ctx), "recording stack")
	defer func() { assert.NoError(t, drv.Down(context.Background())) }()
	run := proxytest.StartRun(t, "http://"+drv.Endpoints()["gateway"].HTTP,
		proxytest.Config(func(c *proxy.Config) { c.Out = path }))
	began := time.Now()
	st, err := pop.Run(ctx, run.URL)
	require.NoError(t, err, "testers")
	require.Less(t, time.Since(began), pop.Duration, "the budgets ended the run, not the duration")
	exs := run.Stop()
	t.Logf("recorded %d exchanges (seed %d): %+v", len(exs), pop.Seed, st.Total())
	return &recorded{path: path, pop: pop, stats: st, exchanges: exs}
}

// replayed is one replay run against a fresh stack.
type replayed struct {
	plan    *plan.Plan
	src     map[uint64]*rprpb.Exchange // the recording's exchanges, whole
	sum     replay.Summary
	results map[key]*rprpb.Result
	// sent is what reached the stack, captured by a recording proxy
	// between the replayer and the gateway.
	sent  []*rprpb.Exchange
	stack *local.Driver
}

// key identifies a replayed request: results are unique by exchange id and
// clone.
type key struct {
	id    uint64
	clone int
}

// replayFresh replays rec against a new stack with its own data directory;
// amplify, when not nil, amplifies the plan first. The stack stays up until
// the test ends, for the test to query.
func replayFresh(t *testing.T, rec *recorded, speed float64, amplify func(*plan.Plan) (*plan.Plan, error)) *replayed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rd, err := recording.Open(rec.path)
	require.NoError(t, err)
	p, err := plan.BuildSeq(ctx, rd.All())
	require.NoError(t, rd.Close())
	require.NoError(t, err)
	if amplify != nil {
		p, err = amplify(p)
		require.NoError(t, err)
	}
	s, err := p.Schedule(plan.Causal, plan.Speed(speed))
	require.NoError(t, err)
	rd, err = recording.Open(rec.path)
	require.NoError(t, err)
	src, err := replay.LoadExchanges(ctx, rd.All(), p)
	require.NoError(t, rd.Close())
	require.NoError(t, err)
	t.Cleanup(func() { src.Close() })
	whole := map[uint64]*rprpb.Exchange{}
	rd, err = recording.Open(rec.path)
	require.NoError(t, err)
	for r, err := range rd.All() {
		require.NoError(t, err)
		if ex := r.GetExchange(); ex != nil {
			whole[ex.GetId()] = ex
		}
	}
	require.NoError(t, rd.Close())

	drv := local.New(stack.ID("e2e-replay-"+strings.ReplaceAll(t.Name(), "/", "-")), stack.Env("ITEMS", fmt.Sprint(items)))
	require.NoError(t, drv.Up(ctx))
	t.Cleanup(func() { assert.NoError(t, drv.Down(context.Background())) })
	capture := proxytest.StartRun(t, "http://"+drv.Endpoints()["gateway"].HTTP)
	target, err := url.Parse(capture.URL)
	require.NoError(t, err)

	dir := t.TempDir()
	sum, err := replay.Run(ctx, s, src, target, replay.OutDir(dir))
	require.NoError(t, err)
	t.Logf("speed %v: planned %d sent %d late %d dropped %d errors %+v correlations %+v lag %+v valid=%v %s",
		speed, sum.Requests.Planned, sum.Requests.Sent, sum.Requests.Late, sum.Requests.Dropped, sum.Errors,
		sum.Correlations, sum.Lag, sum.Valid, sum.Reason)
	out := &replayed{plan: p, src: whole, sum: sum, results: readResults(t, dir), stack: drv}
	out.sent = capture.Stop()
	return out
}

func readResults(t *testing.T, dir string) map[key]*rprpb.Result {
	t.Helper()
	rd, err := recording.Open(filepath.Join(dir, replay.ResultsFile))
	require.NoError(t, err)
	defer rd.Close()
	out := map[key]*rprpb.Result{}
	for rec, err := range rd.All() {
		require.NoError(t, err)
		r := rec.GetResult()
		require.NotNil(t, r, "every record of results.rpr is a Result")
		k := key{r.GetExchangeId(), int(r.GetClone())}
		require.NotContains(t, out, k, "one result per (exchange, clone)")
		out[k] = r
	}
	return out
}

// result returns node i's result.
func (r *replayed) result(t *testing.T, i int) *rprpb.Result {
	t.Helper()
	n, clone := r.plan.Nodes[i], r.plan.Call(i).Clone
	res, ok := r.results[key{n.ID, clone}]
	require.True(t, ok, "node %d (exchange %d clone %d) has a result", i, n.ID, clone)
	return res
}

// marketplace dials the replay stack's marketplace.
func (r *replayed) marketplace(t *testing.T) platform.MarketplaceClient {
	return platform.NewMarketplaceClient(dial(t, r.stack.Endpoints()["marketplace"].GRPC))
}

// missions dials the replay stack's missions service.
func (r *replayed) missions(t *testing.T) platform.MissionsClient {
	return platform.NewMissionsClient(dial(t, r.stack.Endpoints()["missions"].GRPC))
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// players returns the players who logged in, from the login request bodies
// of exs, sorted.
func players(exs []*rprpb.Exchange) []string {
	seen := map[string]bool{}
	for _, ex := range exs {
		if ex.GetRequest().GetPath() != "/v1/login" {
			continue
		}
		if u := jsonString(ex.GetRequest().GetBody().GetData(), "user"); u != "" {
			seen[u] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
