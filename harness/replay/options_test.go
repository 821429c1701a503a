package replay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/replay/creds"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func TestShardLabel(t *testing.T) {
	target, _ := server(t, ok)
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "a", path: "/a", startMs: 0, endMs: 1})
	for _, bad := range []string{"", "1", "2/2", "3/2", "a/b", "0/0", "-1/2", "1/2/3"} {
		_, err := New(s, src, target, ShardLabel(bad))
		assert.ErrorIs(t, err, ErrBadOption, "label %q", bad)
	}
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir), ShardLabel("0/3"))
	require.NoError(t, err)
	assert.Equal(t, "0/3", sum.Shard)
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	assert.Equal(t, "0/3", raw["shard"])
	assert.Len(t, raw["run_id"], 16, "a run names itself, so a merge can refuse it twice")
	rd, err := recording.Open(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	defer rd.Close()
	assert.Equal(t, "0/3", rd.Header().GetRecorderConfig()["shard"])
	assert.Equal(t, s.Fingerprint(), raw["plan"], "the plan replayed, so a merge can refuse another's shards")
	assert.Equal(t, s.Fingerprint(), rd.Header().GetRecorderConfig()["plan"])

	sum, err = Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Empty(t, sum.Shard, "no label, no shard")
}

const (
	phA = "rpr-redacted-00112233445566778899aabb"
	phB = "rpr-redacted-ffeeddccbbaa998877665544"
)

func TestCredentialsReplacePlaceholders(t *testing.T) {
	target, sn := server(t, ok)
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "player-1", path: "/v1/me", startMs: 0, endMs: 1,
		reqHeaders: [][2]string{{"Authorization", "Bearer " + phA}, {"Cookie", "sid=" + phB + "; theme=dark"}}})
	var mu sync.Mutex
	var asked []string
	p := creds.ProviderFunc(func(_ context.Context, session, placeholder string) (string, error) {
		mu.Lock()
		asked = append(asked, session+" "+placeholder)
		mu.Unlock()
		return creds.Static(map[string]string{phA: "live-token-1"}).Token(context.Background(), session, placeholder)
	})
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir), Credentials(p))
	require.NoError(t, err)
	require.Len(t, sn.all(), 1, "a provider error does not stop the request")
	got := sn.all()[0]
	assert.Equal(t, "Bearer live-token-1", got.Header.Get("Authorization"))
	assert.Equal(t, "sid="+phB+"; theme=dark", got.Header.Get("Cookie"), "no token: the placeholder stays")
	slices.Sort(asked)
	assert.Equal(t, []string{"player-1 " + phA, "player-1 " + phB}, asked)
	r := resultsByID(t, dir)[1]
	assert.Contains(t, r.GetError(), "no token for "+phB)
	assert.NotContains(t, r.GetError(), "live-token-1", "a token never reaches the results")
	assert.Equal(t, int32(200), r.GetStatus())
	assert.Zero(t, sum.Errors.Transport, "a status came back: not a transport failure")

	_, err = New(s, src, target, Credentials(nil))
	assert.ErrorIs(t, err, ErrBadOption)
}

func TestCredentialsLeaveLiveValuesAlone(t *testing.T) {
	// The recorded token was redacted in both the login response and the
	// later request; the live login token replaces it, so the provider is
	// never asked.
	target, sn := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			_, _ = w.Write([]byte(`{"token":"tok-live-123456"}`))
			return
		}
		ok(w, r)
	})
	s, src := fixture(t, plan.Causal,
		ex{id: 1, session: "a", method: "POST", path: "/login", startMs: 0, endMs: 5, respBody: `{"token":"` + phA + `"}`,
			respHeaders: [][2]string{{"Content-Type", "application/json"}}},
		ex{id: 2, session: "a", path: "/me", startMs: 10, endMs: 15, reqHeaders: [][2]string{{"Authorization", "Bearer " + phA}}},
	)
	require.Len(t, s.Plan().Correlations, 1)
	asked := 0
	p := creds.ProviderFunc(func(context.Context, string, string) (string, error) { asked++; return "static", nil })
	_, err := Run(context.Background(), s, src, target, Credentials(p))
	require.NoError(t, err)
	reqs := sn.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer tok-live-123456", reqs[1].Header.Get("Authorization"))
	assert.Zero(t, asked)
}

func TestTimeShiftMovesJSONBodyTimes(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		ok(w, r)
	})
	s, src := fixture(t, plan.ASAP,
		ex{id: 1, session: "a", method: "POST", path: "/v1/bookings", startMs: 0, endMs: 1,
			reqHeaders: [][2]string{{"Content-Type", "application/json"}},
			reqBody:    `{"from":"2026-03-01T09:30:00Z", "note":"2026-03-01T09:30:00Z is when"}`},
		ex{id: 2, session: "b", method: "POST", path: "/v1/upload", startMs: 0, endMs: 1,
			reqHeaders: [][2]string{{"Content-Type", "text/plain"}}, reqBody: `{"from":"2026-03-01T09:30:00Z"}`},
	)
	from := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	_, err := Run(context.Background(), s, src, target, TimeShift(24*time.Hour, from, from.Add(time.Hour)))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(bodies)
	assert.Equal(t, []string{
		`{"from":"2026-03-01T09:30:00Z"}`, // not JSON by its content type: untouched
		`{"from":"2026-03-02T09:30:00Z", "note":"2026-03-01T09:30:00Z is when"}`,
	}, bodies)

	_, err = New(s, src, target, TimeShift(time.Hour, from, from.Add(-time.Second)))
	assert.ErrorIs(t, err, ErrBadOption)
}

func TestAmplifiedClonesRewrittenAndLabelled(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		ok(w, r)
	})
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "a", method: "POST", path: "/v1/login", startMs: 0, endMs: 1,
		reqHeaders: [][2]string{{"Content-Type", "application/json"}}, reqBody: `{"user":"ana"}`})
	amp, err := s.Plan().Amplify(3)
	require.NoError(t, err)
	require.NotEmpty(t, amp.Rewrites(1), "the planner rewrites the clone's identity")
	s, err = amp.Schedule(plan.ASAP)
	require.NoError(t, err)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Requests.Sent)
	mu.Lock()
	slices.Sort(bodies)
	want := []string{`{"user":"ana"}`}
	for k := 1; k < 3; k++ {
		want = append(want, `{"user":"`+plan.CloneValue("ana", k, 3)+`"}`)
	}
	slices.Sort(want)
	assert.Equal(t, want, bodies)
	mu.Unlock()
	var clones []uint32
	for _, r := range readResults(t, dir) {
		assert.EqualValues(t, 1, r.GetExchangeId(), "clones share the original's exchange id")
		clones = append(clones, r.GetClone())
	}
	slices.Sort(clones)
	assert.Equal(t, []uint32{0, 1, 2}, clones, "results stay unique by (exchange_id, clone)")
}

func TestCoordinatedOmissionStallShowsInLatency(t *testing.T) {
	// One recorded HTTP/1.1 connection carries five requests 100 ms apart.
	// The target stalls the first for 1 s; the four behind it wait on the
	// connection, as they would have on the recorded one. The server's own
	// service time for those four is tiny, which is what a closed-loop tool
	// (or the target's metrics) would report; the replay measures from the
	// intended time and shows the stall.
	var mu sync.Mutex
	service := map[string]time.Duration{}
	first := make(chan struct{}, 1)
	first <- struct{}{}
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		select {
		case <-first:
			select { // the stall: target behaviour, not test synchronisation
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		default:
		}
		ok(w, r)
		mu.Lock()
		service[r.URL.Path] = time.Since(start)
		mu.Unlock()
	})
	var exs []ex
	paths := []string{"/r1", "/r2", "/r3", "/r4", "/r5"}
	for i, p := range paths {
		exs = append(exs, ex{id: uint64(i + 1), session: "s", conn: 7, path: p,
			startMs: int64(i) * 100, endMs: int64(i)*100 + 5})
	}
	s, src := fixture(t, plan.Recorded, exs...)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	require.Equal(t, 5, sum.Requests.Sent)
	res := resultsByID(t, dir)
	// A request queued behind the stall would, were its send stamped when
	// the connection freed, show at least 600 ms of lag (the last one,
	// due at 400 ms, behind a stall that ends at 1 s). The bounds sit well
	// under that and well over what a loaded machine adds (tens of ms), so
	// they tell the target's stall from the generator's without racing
	// the scheduler.
	const stallShown = 500 * time.Millisecond
	late := 0
	for i := range paths {
		r := res[uint64(i+1)]
		latency := time.Duration(r.GetDoneNs() - r.GetIntendedNs())
		lag := time.Duration(r.GetSentNs() - r.GetIntendedNs())
		assert.GreaterOrEqual(t, latency, time.Second-time.Duration(i)*100*time.Millisecond-20*time.Millisecond,
			"request %d: done − intended shows the stall it queued behind", i+1)
		assert.Less(t, lag, stallShown, "request %d: its send is stamped when due, not when the connection freed", i+1)
		if lag > LateThreshold {
			late++
		}
	}
	mu.Lock()
	for _, p := range paths[1:] {
		assert.Less(t, service[p], stallShown, "%s: the server's service time hides the stall", p)
	}
	mu.Unlock()
	assert.GreaterOrEqual(t, sum.Latency.Max, 1000.0)
	assert.GreaterOrEqual(t, sum.Latency.P50, 700.0, "most requests show the stall, not only the stalled one")
	assert.Equal(t, late, sum.Requests.Late, "the stall is the target's: only the machine's own lateness counts")
}
