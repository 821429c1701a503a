package merge

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/results"
	"github.com/reprise-dev/reprise/internal/cli"
)

// writeRun writes a run directory of n requests of route /x whose sends
// lag by lag, as a shard replay would.
func writeRun(t *testing.T, dir string, firstID uint64, n int, lag time.Duration, target string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	start := time.Unix(1_800_000_000, 0)
	w, err := recording.Create(filepath.Join(dir, replay.ResultsFile), &rprpb.FileHeader{
		Recorder: "reprise replay", Clock: &rprpb.Clock{AnchorUnixNano: start.UnixNano()}})
	require.NoError(t, err)
	for i := range n {
		at := int64(i) * int64(time.Millisecond)
		r := &rprpb.Result{ExchangeId: firstID + uint64(i), Route: "/x", Status: 200, GrpcStatus: -1,
			IntendedNs: at, SentNs: at + int64(lag), DoneNs: at + int64(lag) + int64(2*time.Millisecond)}
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}))
	}
	require.NoError(t, w.Close())
	sum := replay.Summary{Target: target, Mode: "causal", Speed: 1, StartedAt: start.UTC(), DurationMS: float64(n) + 2,
		Requests: replay.RequestCounts{Planned: n, Sent: n}, Valid: true,
		Routes: []replay.RouteSummary{{Route: "/x", Count: n}}}
	f, err := os.Create(filepath.Join(dir, replay.SummaryFile))
	require.NoError(t, err)
	require.NoError(t, sum.WriteJSON(f))
	require.NoError(t, f.Close())
}

func runCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ios, _, out, _ := cli.Test()
	cmd := NewCmdMerge(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(out)
	err := cmd.Execute()
	if err != nil {
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), cli.ExitCode(err)
}

func TestMergePrintsAndWritesTheMergedRun(t *testing.T) {
	root := t.TempDir()
	a, b, out := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "merged")
	writeRun(t, a, 1, 30, 0, "http://127.0.0.1:8080")
	writeRun(t, b, 100, 20, 0, "http://127.0.0.1:8080")
	stdout, code := runCmd(t, "--out", out, a, b)
	require.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "requests: 50 planned, 50 sent")
	assert.Contains(t, stdout, "run: valid")
	assert.Contains(t, stdout, "run directory: "+out)
	for _, f := range []string{replay.ResultsFile, replay.SummaryFile, results.SketchesFile} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	sum, err := results.ReadSummary(out)
	require.NoError(t, err)
	assert.Equal(t, 50, sum.Routes[0].Count)
	assert.InEpsilon(t, 2, sum.Latency.P50, results.RelativeAccuracy)
}

func TestInvalidMergedRunExitsThree(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeRun(t, a, 1, 10, 0, "http://127.0.0.1:8080")
	writeRun(t, b, 100, 10, 20*time.Millisecond, "http://127.0.0.1:8080") // this shard fell behind
	stdout, code := runCmd(t, "--out", filepath.Join(root, "m"), a, b)
	assert.Equal(t, cli.ExitInvalidRun, code, stdout)
	assert.Contains(t, stdout, "run: INVALID: generator lag p99")
}

func TestBadInputExitsTwo(t *testing.T) {
	root := t.TempDir()
	a, other := filepath.Join(root, "a"), filepath.Join(root, "other")
	writeRun(t, a, 1, 5, 0, "http://127.0.0.1:8080")
	writeRun(t, other, 100, 5, 0, "http://127.0.0.1:9090")
	cases := map[string]struct {
		args []string
		want string
	}{
		"no out":       {[]string{a}, "--out is required"},
		"no dirs":      {[]string{"--out", filepath.Join(root, "m")}, "at least one run directory"},
		"missing":      {[]string{"--out", filepath.Join(root, "m"), filepath.Join(root, "nope")}, "nope: no summary.json"},
		"targets":      {[]string{"--out", filepath.Join(root, "m"), a, other}, "replayed against http://127.0.0.1:8080"},
		"out is a run": {[]string{"--out", other, a}, "already holds"},
	}
	for name, c := range cases {
		stdout, code := runCmd(t, c.args...)
		assert.Equal(t, cli.ExitBadInput, code, name)
		assert.Contains(t, stdout, c.want, name)
	}
}

func TestHelpHasExamples(t *testing.T) {
	out, code := runCmd(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "reprise merge --out runs/merged runs/shard-0 runs/shard-1 runs/shard-2")
	assert.Contains(t, out, "3 the merged run is invalid")
}

// Shards whose every request failed to reach the target merge into a
// failed run (exit 1), as each shard's replay was: the rule is applied to
// the merged counts too.
func TestMergedRunOfUnreachableShardsFails(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for k, first := range []uint64{1, 100} {
		dir := filepath.Join(root, string(rune('a'+k)))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		start := time.Unix(1_800_000_000, 0)
		w, err := recording.Create(filepath.Join(dir, replay.ResultsFile), &rprpb.FileHeader{
			Recorder: "reprise replay", Clock: &rprpb.Clock{AnchorUnixNano: start.UnixNano()}})
		require.NoError(t, err)
		for i := range 5 {
			at := int64(i+1) * int64(time.Millisecond) // a send at 0 reads as none
			require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: &rprpb.Result{
				ExchangeId: first + uint64(i), Route: "/x", GrpcStatus: -1, Error: "dial: connection refused",
				IntendedNs: at, SentNs: at, DoneNs: at + int64(time.Millisecond)}}}))
		}
		require.NoError(t, w.Close())
		sum := replay.Summary{Target: "http://127.0.0.1:8080", Mode: "causal", Speed: 1, StartedAt: start.UTC(), DurationMS: 6,
			Requests: replay.RequestCounts{Planned: 5, Sent: 5}, Errors: replay.ErrorCounts{Transport: 5}, Valid: true,
			Routes: []replay.RouteSummary{{Route: "/x", Count: 5, Errors: 5}}}
		f, err := os.Create(filepath.Join(dir, replay.SummaryFile))
		require.NoError(t, err)
		require.NoError(t, sum.WriteJSON(f))
		require.NoError(t, f.Close())
		dirs = append(dirs, dir)
	}
	stdout, code := runCmd(t, append([]string{"--out", filepath.Join(root, "m")}, dirs...)...)
	assert.Equal(t, cli.ExitError, code, stdout)
	assert.Contains(t, stdout, "merge: failed run: all 10 requests failed to reach http://127.0.0.1:8080")
}
