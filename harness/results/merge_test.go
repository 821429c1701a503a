package results

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

type key struct {
	id    uint64
	clone uint32
}

func keys(rs []*rprpb.Result) []key {
	out := make([]key, 0, len(rs))
	for _, r := range rs {
		out = append(out, key{r.GetExchangeId(), r.GetClone()})
	}
	slices.SortFunc(out, func(a, b key) int {
		if a.id != b.id {
			return int(a.id) - int(b.id)
		}
		return int(a.clone) - int(b.clone)
	})
	return out
}

// shardRuns splits one run's results by session into n run directories, as
// n shard replays would write them, each with its own clock anchor.
func shardRuns(t *testing.T, root string, rs []*rprpb.Result, n int, labels bool) ([]string, []time.Time) {
	parts := make([][]*rprpb.Result, n)
	for _, r := range rs {
		i := int(r.Session[len(r.Session)-1]) % n
		parts[i] = append(parts[i], r)
	}
	dirs := make([]string, n)
	starts := make([]time.Time, n)
	for i := range n {
		dirs[i] = filepath.Join(root, "shard"+string(rune('0'+i)))
		starts[i] = time.Unix(1_800_000_000, int64(i)*int64(3*time.Millisecond))
		label := ""
		if labels {
			label = string(rune('0'+i)) + "/" + string(rune('0'+n))
		}
		writeRun(t, dirs[i], parts[i], starts[i], label)
	}
	return dirs, starts
}

func TestMergeOfShardsIsTheUnshardedRun(t *testing.T) {
	root := t.TempDir()
	rs := genResults(21, 40, 25)
	whole := summarize(rs, time.Unix(1_800_000_000, 0))
	dirs, starts := shardRuns(t, root, rs, 3, true)
	out := filepath.Join(root, "merged")

	sum, err := Merge(t.Context(), out, dirs...)
	require.NoError(t, err)

	merged, anchor := readResults(t, filepath.Join(out, replay.ResultsFile))
	assert.Equal(t, keys(rs), keys(merged), "exactly the unsharded run's requests: none missing, none twice")
	assert.Equal(t, starts[0].UnixNano(), anchor, "the merged clock is the earliest shard's")

	assert.Equal(t, whole.Requests, sum.Requests)
	assert.Equal(t, whole.Errors, sum.Errors)
	assert.Equal(t, whole.Correlations, sum.Correlations)
	assert.Equal(t, whole.Valid, sum.Valid)
	assert.Equal(t, whole.Reason, sum.Reason)
	assert.Equal(t, starts[0].UTC(), sum.StartedAt)
	assert.Empty(t, sum.Shard, "the merge is not one shard")
	// Sketch quantiles of the union are those of the unsharded run: the
	// same samples land in the same bins.
	assert.Equal(t, whole.Latency, sum.Latency)
	assert.Equal(t, whole.Lag, sum.Lag)
	require.Equal(t, len(whole.Routes), len(sum.Routes))
	for i := range whole.Routes {
		assert.Equal(t, whole.Routes[i], sum.Routes[i])
	}

	// Against exact quantiles of the merged results.rpr: within sketch error.
	lat, _, lag := durations(merged, "")
	for q, got := range map[float64]float64{0.5: sum.Latency.P50, 0.9: sum.Latency.P90, 0.99: sum.Latency.P99, 1: sum.Latency.Max} {
		within(t, exactQuantile(lat, q), got, "latency")
	}
	within(t, exactQuantile(lag, 0.99), sum.Lag.P99, "lag p99")

	// Times moved onto the merged clock keep their durations and absolute instants.
	byKey := map[key]*rprpb.Result{}
	for _, r := range rs {
		byKey[key{r.ExchangeId, r.Clone}] = r
	}
	for _, m := range merged {
		o := byKey[key{m.ExchangeId, m.Clone}]
		if o.DoneNs != 0 {
			assert.Equal(t, o.DoneNs-o.IntendedNs, m.DoneNs-m.IntendedNs)
		}
		if o.SentNs == 0 {
			assert.Zero(t, m.SentNs, "never sent stays never sent")
		}
	}

	// The files on disk agree with what Merge returned.
	back, err := ReadSummary(out)
	require.NoError(t, err)
	assert.Equal(t, sum.Requests, back.Requests)
	assert.Equal(t, sum.Latency, back.Latency)
	sk, err := ReadFile(filepath.Join(out, SketchesFile))
	require.NoError(t, err)
	fromRecords, err := FromResults(t.Context(), filepath.Join(out, replay.ResultsFile))
	require.NoError(t, err)
	assert.Equal(t, fromRecords.Overall().Latency.Quantiles(), sk.Overall().Latency.Quantiles())

	// A merged run merges again, with a run of its own kind (unsharded).
	_, err = Merge(t.Context(), filepath.Join(root, "again"), out)
	require.NoError(t, err)
}

func TestMergeDurationSpansTheShards(t *testing.T) {
	root := t.TempDir()
	a := []*rprpb.Result{{ExchangeId: 1, Session: "a", Route: "/x", IntendedNs: 0, SentNs: 1e6, DoneNs: 10e6}}
	b := []*rprpb.Result{{ExchangeId: 2, Session: "b", Route: "/x", IntendedNs: 0, SentNs: 1e6, DoneNs: 50e6}}
	t0 := time.Unix(1_800_000_000, 0)
	writeRun(t, filepath.Join(root, "a"), a, t0.Add(100*time.Millisecond), "")
	writeRun(t, filepath.Join(root, "b"), b, t0, "")
	sum, err := Merge(t.Context(), filepath.Join(root, "m"), filepath.Join(root, "a"), filepath.Join(root, "b"))
	require.NoError(t, err)
	assert.Equal(t, t0.UTC(), sum.StartedAt)
	assert.InDelta(t, 110, sum.DurationMS, 1e-6, "from the earliest start to the latest end")
	merged, _ := readResults(t, filepath.Join(root, "m", replay.ResultsFile))
	assert.EqualValues(t, 100e6+10e6, merged[0].DoneNs, "a's times moved 100 ms onto b's clock")
}

func TestMergeJudgesValidityAgain(t *testing.T) {
	root := t.TempDir()
	fast := genResults(1, 10, 10)
	slow := genResults(2, 10, 10)
	for _, r := range slow {
		if r.SentNs != 0 {
			r.SentNs += int64(20 * time.Millisecond) // the generator fell behind on this shard
			r.DoneNs += int64(20 * time.Millisecond)
		}
		r.ExchangeId += 1000
	}
	writeRun(t, filepath.Join(root, "a"), fast, time.Unix(1, 0), "")
	writeRun(t, filepath.Join(root, "b"), slow, time.Unix(1, 0), "")
	sum, err := Merge(t.Context(), filepath.Join(root, "m"), filepath.Join(root, "a"), filepath.Join(root, "b"))
	require.NoError(t, err)
	assert.False(t, sum.Valid)
	assert.Contains(t, sum.Reason, "generator lag p99")
}

func TestMergeUsesStoredSketches(t *testing.T) {
	root := t.TempDir()
	rs := genResults(4, 10, 10)
	dir := filepath.Join(root, "a")
	writeRun(t, dir, rs, time.Unix(1, 0), "")
	// A sketches.json with every latency ten times larger: if merge reads
	// it, the merged quantiles show it.
	stored := New()
	for _, r := range rs {
		c := &rprpb.Result{Route: r.Route, Dropped: r.Dropped, Error: r.Error, IntendedNs: r.IntendedNs,
			SentNs: r.SentNs, DoneNs: r.IntendedNs + 10*(r.DoneNs-r.IntendedNs)}
		stored.Add(c)
	}
	require.NoError(t, stored.WriteFile(filepath.Join(dir, SketchesFile)))
	sum, err := Merge(t.Context(), filepath.Join(root, "m"), dir)
	require.NoError(t, err)
	assert.Equal(t, stored.Overall().Latency.Quantiles(), sum.Latency)
}

func TestMergeRefuses(t *testing.T) {
	root := t.TempDir()
	t0 := time.Unix(1_800_000_000, 0)
	rs := genResults(9, 6, 5)
	run := func(name, shard string, edit func(*replay.Summary)) string {
		dir := filepath.Join(root, name)
		writeRun(t, dir, rs, t0, shard)
		if edit != nil {
			sf, err := ReadSummary(dir)
			require.NoError(t, err)
			edit(&sf)
			f, err := os.Create(filepath.Join(dir, replay.SummaryFile))
			require.NoError(t, err)
			require.NoError(t, sf.WriteJSON(f))
			require.NoError(t, f.Close())
		}
		return dir
	}
	base := run("base", "", nil)
	s0 := run("s0", "0/2", nil)
	s0b := run("s0b", "0/2", nil)
	s0c := run("s0c", "00/2", nil)
	s1of3 := run("s1of3", "1/3", nil)
	other := run("other", "", func(s *replay.Summary) { s.Target = "http://127.0.0.1:9"; s.Requests.Sent += 0 })
	mode := run("mode", "", func(s *replay.Summary) { s.Mode = "asap" })
	speed := run("speed", "", func(s *replay.Summary) { s.Speed = 2 })
	liar := run("liar", "", func(s *replay.Summary) { s.Requests.Sent++ })
	empty := filepath.Join(root, "empty")
	require.NoError(t, os.MkdirAll(empty, 0o755))
	corrupt := run("corrupt", "", nil)
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, replay.SummaryFile), []byte("{"), 0o644))
	noResults := run("noresults", "", nil)
	require.NoError(t, os.Remove(filepath.Join(noResults, replay.ResultsFile)))
	badShard := run("badshard", "3/2", nil)
	badSketch := run("badsketch", "", nil)
	require.NoError(t, os.WriteFile(filepath.Join(badSketch, SketchesFile), []byte("{}"), 0o644))
	taken := run("taken", "", nil)
	link := filepath.Join(root, "link")
	require.NoError(t, os.Symlink(base, link))
	copyA := run("copyA", "", func(s *replay.Summary) { s.RunID = "r-1" })
	copyB := run("copyB", "", func(s *replay.Summary) { s.RunID = "r-1" })
	merged := run("merged", "", func(s *replay.Summary) { s.RunID, s.Runs = "m-1", []string{"r-7", "r-8"} })
	r8 := run("r8", "", func(s *replay.Summary) { s.RunID = "r-8" })
	planA := run("planA", "0/2", func(s *replay.Summary) { s.Plan = "aaaa" })
	planB := run("planB", "1/2", func(s *replay.Summary) { s.Plan = "bbbb" })
	noPlan := run("noPlan", "1/2", nil)

	cases := map[string]struct {
		out  string
		dirs []string
		is   error
		want string
	}{
		"nothing":                     {"", nil, ErrIncompatible, "no run directories"},
		"target":                      {"", []string{base, other}, ErrIncompatible, "replayed against http://127.0.0.1:8080"},
		"mode":                        {"", []string{base, mode}, ErrIncompatible, "timing mode causal"},
		"speed":                       {"", []string{base, speed}, ErrIncompatible, "ran at speed 1"},
		"same dir":                    {"", []string{base, base}, ErrIncompatible, "same directory"},
		"symlinked dir":               {"", []string{base, link}, ErrIncompatible, "same directory"},
		"copied run":                  {"", []string{copyA, copyB}, ErrIncompatible, "both hold run r-1"},
		"a merge and one of its runs": {"", []string{merged, r8}, ErrIncompatible, "both hold run r-8"},
		"shards of other plans":       {"", []string{planA, planB}, ErrIncompatible, "replayed different plans (aaaa, bbbb)"},
		"a shard naming no plan":      {"", []string{planA, noPlan}, ErrIncompatible, "only one names the plan"},
		"same shard":                  {"", []string{s0, s0b}, ErrIncompatible, "both shard 0/2"},
		"same shard, other spelling":  {"", []string{s0, s0c}, ErrIncompatible, "both shard 0/2"},
		"shard counts":                {"", []string{s0, s1of3}, ErrIncompatible, "different shard counts"},
		"mixed":                       {"", []string{s0, base}, ErrIncompatible, "a sharded and an unsharded run overlap"},
		"out is input":                {base, []string{base}, ErrIncompatible, "already holds"},
		"out taken":                   {taken, []string{base}, ErrIncompatible, "already holds"},
		"not a run":                   {"", []string{empty}, ErrBadRunDir, "no summary.json"},
		"corrupt summary":             {"", []string{corrupt}, ErrBadRunDir, "corrupt/summary.json"},
		"no results":                  {"", []string{noResults}, ErrBadRunDir, "noresults"},
		"bad shard label":             {"", []string{badShard}, ErrBadRunDir, `shard "3/2"`},
		"results disagree":            {"", []string{liar}, ErrBadRunDir, "liar/summary.json says"},
		"bad sketches":                {"", []string{badSketch}, ErrBadRunDir, "badsketch/sketches.json"},
	}
	for name, c := range cases {
		out := c.out
		if out == "" {
			out = filepath.Join(root, "out-"+name)
		}
		_, err := Merge(t.Context(), out, c.dirs...)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, c.is, name)
		assert.Contains(t, err.Error(), c.want, name)
		if c.out == "" {
			_, statErr := os.Stat(filepath.Join(out, replay.SummaryFile))
			assert.True(t, os.IsNotExist(statErr), "%s: no half-merged run is left behind", name)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Merge(ctx, filepath.Join(root, "cancelled"), base)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoDirExists(t, filepath.Join(root, "cancelled"), "a failed merge leaves no directory it made")
}

// A merge names itself and the runs it covers, so that merging it again
// with one of them, or with a copy of itself, is refused.
func TestMergeNamesTheRunsItCovers(t *testing.T) {
	root := t.TempDir()
	t0 := time.Unix(1_800_000_000, 0)
	var dirs []string
	for k, id := range []string{"r-1", "r-2"} {
		dir := filepath.Join(root, id)
		sum := writeRun(t, dir, genResults(uint64(k+1), 2, 3), t0, strconv.Itoa(k)+"/2")
		sum.RunID = id
		f, err := os.Create(filepath.Join(dir, replay.SummaryFile))
		require.NoError(t, err)
		require.NoError(t, sum.WriteJSON(f))
		require.NoError(t, f.Close())
		dirs = append(dirs, dir)
	}
	sum, err := Merge(t.Context(), filepath.Join(root, "m"), dirs...)
	require.NoError(t, err)
	assert.Equal(t, []string{"r-1", "r-2"}, sum.Runs)
	assert.Len(t, sum.RunID, 16)
	assert.NotContains(t, sum.Runs, sum.RunID)
}
