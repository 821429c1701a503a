// Command lagstat turns the per-request results of one load-generator run
// into the figures the replay benchmark compares: completed requests, the
// sustained rate, and generator lag quantiles. It reads either a `reprise
// replay` results.rpr (lag = sent − intended, as the replayer defines it)
// or `vegeta encode --to csv` output, for which lag is reconstructed from
// vegeta's pacer (see lagVegeta), and prints one JSON object.
package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/results"
)

func main() {
	results := flag.String("results", "", "a reprise results.rpr")
	vegetaCSV := flag.String("vegeta-csv", "", "vegeta results as CSV (`vegeta encode --to csv`), - for stdin")
	rate := flag.Float64("rate", 0, "the vegeta attack's -rate per second; 0 (a max-rate run) reports no lag")
	flag.Parse()
	if err := run(*results, *vegetaCSV, *rate, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lagstat:", err)
		os.Exit(1)
	}
}

// Stats are the figures of one run. Times are in milliseconds.
type Stats struct {
	Requests int     `json:"requests"`
	OK       int     `json:"ok"` // 2xx without a transport error
	Errors   int     `json:"errors"`
	Duration float64 `json:"duration_s"` // first send to last completion
	Rate     float64 `json:"rate"`       // OK / Duration
	LagP50   float64 `json:"lag_p50_ms"`
	LagP99   float64 `json:"lag_p99_ms"`
	LagMax   float64 `json:"lag_max_ms"`
	// LagMethod says how lag was obtained, so a table never mixes methods
	// silently.
	LagMethod string `json:"lag_method,omitempty"`
}

// sample is one request: when it should have gone, when it went, when it
// was done, all in ns on one clock; seq orders a vegeta attack's hits.
type sample struct {
	seq            uint64
	intended, sent int64
	done           int64
	ok             bool
}

func run(resultsPath, csvPath string, rate float64, stdin io.Reader, out io.Writer) error {
	var (
		st  Stats
		err error
	)
	switch {
	case (resultsPath == "") == (csvPath == ""):
		return errors.New("want exactly one of -results and -vegeta-csv")
	case resultsPath != "":
		st, err = fromResults(resultsPath)
	default:
		in := stdin
		if csvPath != "-" {
			f, ferr := os.Open(csvPath)
			if ferr != nil {
				return ferr
			}
			defer f.Close()
			in = f
		}
		st, err = fromVegeta(in, csvPath, rate)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	return enc.Encode(st)
}

func fromResults(path string) (Stats, error) {
	rd, err := recording.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer rd.Close()
	var ss []sample
	n := 0
	for rec, err := range rd.All() {
		n++
		if err != nil {
			return Stats{}, fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		r := rec.GetResult()
		if r == nil || !results.Samples(r) { // dropped or unsupported: never sent
			continue
		}
		ss = append(ss, sample{intended: r.GetIntendedNs(), sent: r.GetSentNs(), done: r.GetDoneNs(),
			ok: r.GetError() == "" && r.GetStatus() >= 200 && r.GetStatus() < 300})
	}
	if len(ss) == 0 {
		return Stats{}, fmt.Errorf("%s: no sent results", path)
	}
	st := totals(ss)
	lags := make([]int64, len(ss))
	for i, s := range ss {
		lags[i] = s.sent - s.intended
	}
	st.setLag(lags, "sent - intended, per request (reprise's own definition)")
	return st, nil
}

// fromVegeta reads vegeta's CSV: timestamp ns, code, latency ns, bytes
// out, bytes in, error, body, attack, seq, method, url, headers.
func fromVegeta(in io.Reader, name string, rate float64) (Stats, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var ss []sample
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) < 9 {
			return Stats{}, fmt.Errorf("%s:%d: %d fields, want at least 9", name, line, len(rec))
		}
		ts, err1 := strconv.ParseInt(rec[0], 10, 64)
		code, err2 := strconv.Atoi(rec[1])
		lat, err3 := strconv.ParseInt(rec[2], 10, 64)
		seq, err4 := strconv.ParseUint(rec[8], 10, 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return Stats{}, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		ss = append(ss, sample{seq: seq, sent: ts, done: ts + lat, ok: rec[5] == "" && code >= 200 && code < 300})
	}
	if len(ss) == 0 {
		return Stats{}, fmt.Errorf("%s: no results", name)
	}
	st := totals(ss)
	if rate > 0 {
		st.setLag(lagVegeta(ss, rate), fmt.Sprintf("timestamp - (anchor + (seq+1)/rate), anchor = min over hits (a lower bound), rate %g/s", rate))
	}
	return st, nil
}

// lagVegeta reconstructs generator lag for a constant-rate vegeta attack.
// Vegeta's pacer releases hit k (0-based) at began + (k+1)·interval, with
// interval = 1s/rate in whole nanoseconds, and stamps each hit with its
// sequence number and the time a worker took it, under one lock. began is
// not in the results, so the anchor is estimated as min over hits of
// (timestamp − (seq+1)·interval): no hit can start before its tick, so the
// estimate is never earlier than began, and the lags derived from it are a
// lower bound of the true ones, short by the smallest lag of any hit.
func lagVegeta(ss []sample, rate float64) []int64 {
	interval := int64(float64(time.Second) / rate)
	ideal := func(s sample) int64 { return int64(s.seq+1) * interval }
	anchor := int64(math.MaxInt64)
	for _, s := range ss {
		anchor = min(anchor, s.sent-ideal(s))
	}
	lags := make([]int64, len(ss))
	for i, s := range ss {
		lags[i] = s.sent - anchor - ideal(s)
	}
	return lags
}

func totals(ss []sample) Stats {
	st := Stats{Requests: len(ss)}
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range ss {
		if s.ok {
			st.OK++
		} else {
			st.Errors++
		}
		first = min(first, s.sent)
		last = max(last, s.done)
	}
	if last > first {
		st.Duration = float64(last-first) / 1e9
		st.Rate = float64(st.OK) / st.Duration
	}
	return st
}

func (st *Stats) setLag(lags []int64, method string) {
	slices.Sort(lags)
	ms := func(v int64) float64 { return float64(v) / 1e6 }
	st.LagP50 = ms(quantile(lags, 0.50))
	st.LagP99 = ms(quantile(lags, 0.99))
	st.LagMax = ms(lags[len(lags)-1])
	st.LagMethod = method
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []int64, q float64) int64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
