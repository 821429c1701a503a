package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/results"
)

// Script commands for the sharded-run proof (testdata/script/merge.txtar).

// cmdStubAPI starts a stateless loopback API for the rest of the script and
// sets $STUBAPI to its URL: `stubapi`. Every request gets the same answer
// whatever ran before it (409 for .../buy, 200 and a small JSON body
// otherwise), so two replays of one plan see the same statuses however
// they are split.
func cmdStubAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: stubapi")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetUnencryptedHTTP2(true)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/buy") {
			w.WriteHeader(http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	srv := &http.Server{Handler: h, Protocols: &ps}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("STUBAPI", "http://"+ln.Addr().String())
}

// cmdExitIn runs a program, passes its output on to the script's stdout
// and stderr, and fails unless it exits with one of the listed codes:
// `exitin 0,3 reprise replay ...` accepts a valid or an invalid run (the
// generator lag rule trips on a loaded machine; the proof is about which
// requests ran, not how fast).
func cmdExitIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitin CODE[,CODE...] PROGRAM [ARGS...]")
	}
	var want []int
	for _, c := range strings.Split(args[0], ",") {
		n, err := strconv.Atoi(c)
		ts.Check(err)
		want = append(want, n)
	}
	path := args[1]
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, args[1]); fileExists(p) {
			path = p
			break
		}
	}
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err := cmd.Run()
	if cmd.ProcessState == nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got := cmd.ProcessState.ExitCode(); !slices.Contains(want, got) {
		ts.Fatalf("%s exited %d, want one of %v", strings.Join(args[1:], " "), got, want)
	}
}

// cmdShardCheck compares a merged run directory with an unsharded run of
// the same plan: `shardcheck FULL MERGED`. It fails unless the merged
// results.rpr holds exactly the unsharded run's requests (as a multiset of
// exchange id and clone: none missing, none twice), the merged summary's
// deterministic counts equal the unsharded run's, and every quantile of
// the merged summary is within the sketch's relative accuracy of the exact
// quantile of the merged results (latencies of two runs differ, so sketch
// and exact are compared on the same requests).
func cmdShardCheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: shardcheck FULL MERGED")
	}
	full, merged := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	fullRes, mergedRes := readRunResults(ts, full), readRunResults(ts, merged)
	fk, mk := resultKeys(fullRes), resultKeys(mergedRes)
	for i := 1; i < len(fk); i++ {
		if fk[i] == fk[i-1] {
			ts.Fatalf("the unsharded run holds request %v twice", fk[i])
		}
	}
	if !slices.Equal(fk, mk) {
		ts.Fatalf("merged requests differ from the unsharded run's: %d vs %d; missing %v, extra %v",
			len(mk), len(fk), diffKeys(fk, mk), diffKeys(mk, fk))
	}
	fs, ms := readRunSummary(ts, full), readRunSummary(ts, merged)
	type counts struct {
		Planned, Sent, Dropped, Unsupported int
		Errors                              replay.ErrorCounts
		Correlations                        replay.CorrelationCounts
		Truncated                           int
	}
	get := func(s replay.Summary) counts {
		return counts{s.Requests.Planned, s.Requests.Sent, s.Requests.Dropped, s.Requests.Unsupported,
			s.Errors, s.Correlations, s.TruncatedBodies}
	}
	if get(fs) != get(ms) {
		ts.Fatalf("merged counts %+v, unsharded %+v", get(ms), get(fs))
	}

	checks := 0
	check := func(what string, exact []float64, q replay.Quantiles) {
		if len(exact) == 0 {
			return
		}
		slices.Sort(exact)
		at := func(p float64) float64 { return exact[int(p*float64(len(exact)-1))] }
		for _, c := range []struct {
			name       string
			got, exact float64
		}{{"p50", q.P50, at(0.5)}, {"p90", q.P90, at(0.9)}, {"p99", q.P99, at(0.99)}, {"max", q.Max, exact[len(exact)-1]}} {
			if math.Abs(c.got-c.exact) > results.RelativeAccuracy*math.Abs(c.exact)+1e-9 {
				ts.Fatalf("%s %s: merged summary %v ms, exact %v ms: beyond %v relative error", what, c.name, c.got, c.exact, results.RelativeAccuracy)
			}
			checks++
		}
	}
	lat, _, lag := exactDurations(mergedRes, "", true)
	check("latency", lat, ms.Latency)
	check("generator lag", lag, ms.Lag)
	for _, rt := range ms.Routes {
		lat, svc, lag := exactDurations(mergedRes, rt.Route, false)
		if len(lat) != rt.Count {
			ts.Fatalf("route %s: summary counts %d, results hold %d", rt.Route, rt.Count, len(lat))
		}
		check(rt.Route+" latency", lat, rt.Latency)
		check(rt.Route+" service time", svc, rt.Service)
		check(rt.Route+" generator lag", lag, rt.Lag)
	}
	fmt.Fprintf(ts.Stdout(), "same %d requests; %d sent, %d errors in both; %d quantiles within %v of exact\n",
		len(mk), ms.Requests.Sent, ms.Errors.Total(), checks, results.RelativeAccuracy)
}

type resultKey struct {
	id    uint64
	clone uint32
}

func resultKeys(rs []*rprpb.Result) []resultKey {
	ks := make([]resultKey, 0, len(rs))
	for _, r := range rs {
		ks = append(ks, resultKey{r.GetExchangeId(), r.GetClone()})
	}
	slices.SortFunc(ks, func(a, b resultKey) int {
		if a.id != b.id {
			if a.id < b.id {
				return -1
			}
			return 1
		}
		return int(a.clone) - int(b.clone)
	})
	return ks
}

// diffKeys lists (at most 5 of) the keys of a missing from b, multiset-wise.
func diffKeys(a, b []resultKey) []resultKey {
	left := map[resultKey]int{}
	for _, k := range b {
		left[k]++
	}
	var out []resultKey
	for _, k := range a {
		if left[k] > 0 {
			left[k]--
		} else if len(out) < 5 {
			out = append(out, k)
		}
	}
	return out
}

func readRunResults(ts *testscript.TestScript, dir string) []*rprpb.Result {
	rd, err := recording.Open(filepath.Join(dir, replay.ResultsFile))
	ts.Check(err)
	defer rd.Close()
	var out []*rprpb.Result
	for rec, err := range rd.All() {
		ts.Check(err)
		if r := rec.GetResult(); r != nil {
			out = append(out, r)
		}
	}
	return out
}

func readRunSummary(ts *testscript.TestScript, dir string) replay.Summary {
	data, err := os.ReadFile(filepath.Join(dir, replay.SummaryFile))
	ts.Check(err)
	var s replay.Summary
	ts.Check(json.Unmarshal(data, &s))
	return s
}

// exactDurations returns the latency, service time and lag (ms) of the
// latency samples, of one route or (all) of every route.
func exactDurations(rs []*rprpb.Result, route string, all bool) (lat, svc, lag []float64) {
	for _, r := range rs {
		if !results.Samples(r) || (!all && r.GetRoute() != route) {
			continue
		}
		lat = append(lat, float64(r.GetDoneNs()-r.GetIntendedNs())/1e6)
		svc = append(svc, float64(r.GetDoneNs()-r.GetSentNs())/1e6)
		lag = append(lag, float64(r.GetSentNs()-r.GetIntendedNs())/1e6)
	}
	return lat, svc, lag
}
