package replay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/internal/cli"
)

// writeScenario writes body as s.yaml next to a copy of the sample
// recording named rec.rpr, so that "path: rec.rpr" resolves against the
// scenario's directory and not the working directory.
func writeScenario(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	rec, err := os.ReadFile(sampleRecording(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rec.rpr"), rec, 0o644))
	path := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

func planCounts(t *testing.T, out string) (requests, sessions int) {
	t.Helper()
	_, err := fmt.Sscanf(out, "Replay plan: %d requests in %d sessions", &requests, &sessions)
	require.NoError(t, err, out)
	return requests, sessions
}

// pathRecorder is a target that answers every request and remembers the
// sessions' paths and headers it saw.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
	auth  []string
	srv   *httptest.Server
}

func newPathRecorder(t *testing.T) *pathRecorder {
	pr := &pathRecorder{}
	pr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr.mu.Lock()
		pr.paths = append(pr.paths, r.Method+" "+r.URL.Path)
		pr.auth = append(pr.auth, r.Header.Get("Authorization"))
		pr.mu.Unlock()
		_, _ = w.Write([]byte(`{"token":"live-0123456789"}`))
	}))
	t.Cleanup(pr.srv.Close)
	return pr
}

func TestScenarioDrivesReplay(t *testing.T) {
	pr := newPathRecorder(t)
	out := filepath.Join(t.TempDir(), "run")
	sc := writeScenario(t, fmt.Sprintf(`recording:
  path: rec.rpr
  filters:
    sessions: [b*]
    routes: ["GET /v1/**", "POST /v1/login"]
target: {url: %q}
timing: {mode: asap}
out: %s
`, pr.srv.URL, out))
	stdout, errOut, code := execute(t, "--scenario", sc)
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Contains(t, stdout, "run directory: "+out)
	assert.ElementsMatch(t, []string{"POST /v1/login", "GET /v1/me", "GET /v1/items"}, pr.paths, "only bob's session was replayed")
	var sum replay.Summary
	b, err := os.ReadFile(filepath.Join(out, replay.SummaryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, 3, sum.Requests.Sent)
}

// TestScenarioFlagPrecedence: a flag given wins over the file; a flag not
// given leaves the file's value.
func TestScenarioFlagPrecedence(t *testing.T) {
	sc := writeScenario(t, `recording: {path: rec.rpr, filters: {sessions: [alice]}}
target: {url: "http://127.0.0.1:1"}
timing: {speed: 4}
`)
	out, errOut, code := execute(t, "--scenario", sc, "--dry-run")
	require.Equal(t, cli.ExitOK, code, errOut)
	n, sessions := planCounts(t, out)
	assert.Equal(t, [2]int{3, 1}, [2]int{n, sessions}, "the file's session filter")
	assert.Contains(t, out, "causal at speed 4", "the file's speed")

	out, errOut, code = execute(t, "--scenario", sc, "--dry-run", "--session", "*", "--timing", "asap")
	require.Equal(t, cli.ExitOK, code, errOut)
	n, sessions = planCounts(t, out)
	assert.Equal(t, [2]int{6, 2}, [2]int{n, sessions}, "--session replaces the file's filter")
	assert.Contains(t, out, "Timing: asap", "--timing replaces the file's mode and drops its speed")

	// FILE replaces recording.path.
	out, errOut, code = execute(t, sampleRecording(t), "--scenario", sc, "--dry-run", "--speed", "2")
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, "causal at speed 2")
}

func TestScenarioErrorsNameFileAndLine(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"unknown field": {"recording: {path: rec.rpr}\ntiming:\n  sped: 2\n", "s.yaml:3: timing.sped: unknown field"},
		"observer": {"recording: {path: rec.rpr}\ntarget: {url: \"http://127.0.0.1:1\"}\nobservers:\n  - id: observers.prometheus\n",
			`s.yaml:4: observers[0].id: "observers.prometheus": not registered`},
		"check": {"recording: {path: rec.rpr}\nchecks:\n  - id: checkers.unique_sale\n",
			`s.yaml:3: checks[0].id: "checkers.unique_sale": not registered`},
		"verdict":           {"recording: {path: rec.rpr}\nverdict:\n  - id: verdicts.strict\n", `s.yaml:3: verdict[0].id: "verdicts.strict": not registered`},
		"missing recording": {"recording: {path: none.rpr}\ntarget: {url: \"http://127.0.0.1:1\"}\n", "none.rpr"},
		"window":            {"recording: {path: rec.rpr, filters: {window: {from: 10s, to: 2023-01-01T00:00:00Z}}}\n", "s.yaml:1: recording.filters.window"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := execute(t, "--scenario", writeScenario(t, c.body), "--dry-run")
			assert.Equal(t, cli.ExitBadInput, code)
			assert.Contains(t, errOut, c.want)
		})
	}
	_, errOut, code := execute(t, "--scenario", filepath.Join(t.TempDir(), "none.yaml"), "--dry-run")
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errOut, "--scenario")
}

// TestBadValuesNameTheFlag checks that each flag's bad value exits 2 with
// a message naming the flag.
func TestBadValuesNameTheFlag(t *testing.T) {
	file := sampleRecording(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--speed", "0"}, "--speed: timing.speed"},
		{[]string{"--speed", "fast"}, "--speed"},
		{[]string{"--amplify", "0"}, "--amplify: amplify.factor"},
		{[]string{"--amplify", "many"}, "--amplify"},
		{[]string{"--collide"}, "--collide: amplify.collide: needs factor of at least 2"},
		{[]string{"--clone-offset", "5ms"}, "--clone-offset: amplify.offset: needs factor of at least 2"},
		{[]string{"--amplify", "2", "--clone-offset", "-5ms"}, "--clone-offset: amplify.offset"},
		{[]string{"--clone-offset", "5"}, "--clone-offset"},
		{[]string{"--amplify", "100000"}, "amplify"},
		{[]string{"--rate", "0"}, "--rate: timing.rate"},
		{[]string{"--rate", "lots"}, "--rate"},
		{[]string{"--rate-curve", "1s:5"}, "--rate-curve: timing.rate[0].at: 1s: the first point must be at 0s"},
		{[]string{"--rate-curve", "0s:5,0s:6"}, "--rate-curve: timing.rate[1].at"},
		{[]string{"--rate-curve", "0s:5;1s:6"}, "--rate-curve"},
		{[]string{"--rate", "5", "--rate-curve", "0s:5"}, "--rate-curve: timing.rate: exclusive with --rate"},
		{[]string{"--timing", "asap", "--speed", "2"}, "--speed: timing.speed: 2: applies only to causal and recorded timing"},
		{[]string{"--shard", "2/2"}, "--shard: shard"},
		{[]string{"--window", "9s..3s"}, "--window"},
		{[]string{"--session", "[x"}, "--session"},
		{[]string{"--route", "items"}, "--route"},
		{[]string{"--start-at", "soon"}, "--start-at"},
		{[]string{"--time-shift=maybe"}, "--time-shift"},
		{[]string{"--target", "kube"}, `--target: target.stack.driver: "kube"`},
		{[]string{"--credentials", "a.yaml", "--credentials-command", "x"}, "--credentials and --credentials-command are exclusive"},
		{[]string{"--credentials-command", "get 'token"}, "--credentials-command: unterminated ' quote"},
	} {
		t.Run(fmt.Sprint(c.args), func(t *testing.T) {
			_, errOut, code := execute(t, append([]string{file, "--dry-run"}, c.args...)...)
			assert.Equal(t, cli.ExitBadInput, code, errOut)
			assert.Contains(t, errOut, c.want)
		})
	}
}

func TestAmplifyThenShard(t *testing.T) {
	file := sampleRecording(t)
	out, errOut, code := execute(t, file, "--dry-run", "--amplify", "3", "--clone-offset", "1s")
	require.Equal(t, cli.ExitOK, code, errOut)
	n, sessions := planCounts(t, out)
	assert.Equal(t, [2]int{18, 6}, [2]int{n, sessions})
	assert.Contains(t, out, "alice~2", "clone sessions are named original~k")
	assert.Regexp(t, `expected duration 2\.0\d+s`, out, "clone 2 starts 2 × 1s later")

	total, clones := 0, 0
	for _, shard := range []string{"0/3", "1/3", "2/3"} {
		out, errOut, code := execute(t, file, "--dry-run", "--amplify", "3", "--shard", shard)
		require.Equal(t, cli.ExitOK, code, errOut)
		n, _ := planCounts(t, out)
		total += n
		clones += len(regexp.MustCompile(`(?m)^  (alice|bob)~\d`).FindAllString(out, -1))
	}
	assert.Equal(t, 18, total, "the shards of the amplified plan partition it")
	assert.Equal(t, 4, clones, "clones are sharded like sessions")
}

func TestRateCurveShapesTheSchedule(t *testing.T) {
	file := sampleRecording(t)
	duration := func(args ...string) float64 {
		out, errOut, code := execute(t, append([]string{file, "--dry-run"}, args...)...)
		require.Equal(t, cli.ExitOK, code, errOut)
		m := regexp.MustCompile(`Timing: rate at speed 1: expected duration ([0-9.]+)s`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		d, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return d
	}
	// Two sessions: the second starts 1/rate after the first.
	slow := duration("--rate", "1")
	fast := duration("--rate-curve", "0s:1000")
	stepped := duration("--rate-curve", "0s:1,100ms:1000")
	assert.InDelta(t, 1.02, slow, 0.05, "1 session/s: the second session starts at 1s")
	assert.Less(t, fast, 0.1)
	// Step curve: 0.1 session arrives in the first 100ms at 1/s, the rest
	// of the second one almost at once at 1000/s: it starts at ~0.1s.
	assert.InDelta(t, fast+0.1, stepped, 0.01, "the rate steps up at 100ms")

	// A scenario's rate curve is the same.
	sc := writeScenario(t, "recording: {path: rec.rpr}\ntarget: {url: \"http://127.0.0.1:1\"}\ntiming:\n  mode: rate\n  rate:\n    - {at: 0s, rate: 1/s}\n    - {at: 100ms, rate: 1000/s}\n")
	out, errOut, code := execute(t, "--scenario", sc, "--dry-run")
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, out, fmt.Sprintf("expected duration %.3fs", stepped))
}

// TestShippedExampleRuns dry-runs the smoke example from this package's
// directory: its recording path is relative to the example's directory.
func TestShippedExampleRuns(t *testing.T) {
	out, errOut, code := execute(t, "--scenario", filepath.Join("..", "..", "..", "scenarios", "examples", "smoke.yaml"), "--dry-run")
	require.Equal(t, cli.ExitOK, code, errOut)
	n, _ := planCounts(t, out)
	assert.Greater(t, n, 1000, "the whole trading-burst recording")
}

// TestAmplifiedRunSendsEveryClone: --amplify reaches the executor, each
// clone logging in and using its own live token.
func TestAmplifiedRunSendsEveryClone(t *testing.T) {
	pr := newPathRecorder(t)
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code := execute(t, sampleRecording(t), "--target", pr.srv.URL, "--timing", "asap", "--out", dir, "--amplify", "3")
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	var sum replay.Summary
	b, err := os.ReadFile(filepath.Join(dir, replay.SummaryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, 18, sum.Requests.Sent)
	assert.Equal(t, 0, sum.Correlations.Unresolved)
	logins := 0
	for _, p := range pr.paths {
		if p == "POST /v1/login" {
			logins++
		}
	}
	assert.Equal(t, 6, logins, "two sessions, three copies each")
}
