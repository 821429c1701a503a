package results

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got))
}

var routes = []string{"/v1/items", "/v1/items/{id}", "/v1/login"}

// genResults makes a seeded run of sessions×perSession results: a few
// dropped, a few unsupported, some 4xx/5xx/transport errors, and
// log-normal latencies from ~0.2 ms to ~200 ms.
func genResults(seed uint64, sessions, perSession int) []*rprpb.Result {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []*rprpb.Result
	id := uint64(1)
	for s := range sessions {
		at := int64(rng.IntN(int(time.Second)))
		for range perSession {
			r := &rprpb.Result{ExchangeId: id, Session: "s" + strconv.Itoa(s), Method: "GET",
				Route: routes[rng.IntN(len(routes))], IntendedNs: at, GrpcStatus: -1, Status: 200}
			id++
			at += int64(rng.IntN(int(50 * time.Millisecond)))
			switch p := rng.Float64(); {
			case p < 0.02:
				r.Dropped, r.Status = true, 0
			case p < 0.04:
				r.Error, r.Status = replay.ErrUnsupported.Error(), 0
			default:
				lag := int64(rng.ExpFloat64() * float64(200*time.Microsecond))
				svc := int64(math.Exp(rng.NormFloat64()*1.2+math.Log(3)) * float64(time.Millisecond))
				r.SentNs = r.IntendedNs + lag
				r.FirstByteNs = r.SentNs + svc/2
				r.DoneNs = r.SentNs + svc
				switch q := rng.Float64(); {
				case q < 0.03:
					r.Status, r.Error = 0, "dial tcp: connection refused"
				case q < 0.08:
					r.Status = 404
				case q < 0.10:
					r.Status = 503
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// summarize computes the figures a replayer would write for these results
// (counts by its collector's rules; quantiles left to the sketches).
func summarize(rs []*rprpb.Result, start time.Time) replay.Summary {
	sum := replay.Summary{Target: "http://127.0.0.1:8080", Mode: "causal", Speed: 1, StartedAt: start.UTC()}
	routes := map[string]*replay.RouteSummary{}
	var end int64
	sk := New()
	for _, r := range rs {
		sum.Requests.Planned++
		sk.Add(r)
		switch {
		case r.GetDropped():
			sum.Requests.Dropped++
			continue
		case !Samples(r):
			sum.Requests.Unsupported++
			continue
		}
		sum.Requests.Sent++
		if time.Duration(r.SentNs-r.IntendedNs) > replay.LateThreshold {
			sum.Requests.Late++
		}
		end = max(end, r.DoneNs)
		rt := routes[r.Route]
		if rt == nil {
			rt = &replay.RouteSummary{Route: r.Route}
			routes[r.Route] = rt
		}
		rt.Count++
		failed := true
		switch {
		case r.Status == 0:
			sum.Errors.Transport++
		case r.Status >= 500:
			sum.Errors.Status5xx++
		case r.Status >= 400:
			sum.Errors.Status4xx++
		default:
			failed = false
		}
		if failed {
			rt.Errors++
		}
	}
	sum.DurationMS = float64(end) / 1e6
	sum.Routes = []replay.RouteSummary{}
	for _, rt := range routes {
		sum.Routes = append(sum.Routes, *rt)
	}
	sk.Apply(&sum)
	sum.Valid, sum.Reason = replay.Validity(sk.LagP99(), sum.Requests)
	return sum
}

// writeRun writes a run directory as the replayer would: results.rpr with
// its clock anchored at start, and summary.json (with shard, when given).
func writeRun(t *testing.T, dir string, rs []*rprpb.Result, start time.Time, shard string) replay.Summary {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	w, err := recording.Create(filepath.Join(dir, replay.ResultsFile), &rprpb.FileHeader{
		Recorder: "reprise replay", Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: start.UnixNano()}})
	require.NoError(t, err)
	for _, r := range rs {
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}))
	}
	require.NoError(t, w.Close())
	sum := summarize(rs, start)
	f, err := os.Create(filepath.Join(dir, replay.SummaryFile))
	require.NoError(t, err)
	sum.Shard = shard
	require.NoError(t, sum.WriteJSON(f))
	require.NoError(t, f.Close())
	return sum
}

// readResults returns every Result of a results.rpr and its clock anchor.
func readResults(t *testing.T, path string) ([]*rprpb.Result, int64) {
	t.Helper()
	rd, err := recording.Open(path)
	require.NoError(t, err)
	defer rd.Close()
	var out []*rprpb.Result
	for rec, err := range rd.All() {
		require.NoError(t, err)
		out = append(out, rec.GetResult())
	}
	return out, rd.Header().GetClock().GetAnchorUnixNano()
}

// exactQuantile is the value at rank q×(n−1) (rounded down) of the
// durations, the rank a DDSketch answers for.
func exactQuantile(ms []float64, q float64) float64 {
	s := slices.Clone(ms)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func within(t *testing.T, exact, got float64, what string) {
	t.Helper()
	require.LessOrEqual(t, math.Abs(got-exact), RelativeAccuracy*math.Abs(exact)+1e-9,
		"%s: sketch %v, exact %v: beyond %v relative error", what, got, exact, RelativeAccuracy)
}
