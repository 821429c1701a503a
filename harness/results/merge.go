package results

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
)

// Sentinel errors of Merge and ReadSummary; the messages name the directory.
var (
	// ErrBadRunDir: a run directory is missing a file or holds a damaged one.
	ErrBadRunDir = errors.New("results: bad run directory")
	// ErrIncompatible: the run directories are not parts of one run.
	ErrIncompatible = errors.New("results: run directories cannot be merged")
)

// ReadSummary reads dir/summary.json.
func ReadSummary(dir string) (replay.Summary, error) {
	path := filepath.Join(dir, replay.SummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return replay.Summary{}, fmt.Errorf("%w: %s: no %s (not a run directory?)", ErrBadRunDir, dir, replay.SummaryFile)
		}
		return replay.Summary{}, fmt.Errorf("%w: %w", ErrBadRunDir, err)
	}
	var sf replay.Summary
	if err := json.Unmarshal(data, &sf); err != nil {
		return replay.Summary{}, fmt.Errorf("%w: %s: %w", ErrBadRunDir, path, err)
	}
	return sf, nil
}

// ParseShard reads a shard label "i/N" (0 <= i < N).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard %q: want i/N with 0 <= i < N", s)
	}
	return i, n, nil
}

type runDir struct {
	dir string
	sf  replay.Summary
}

// Merge merges the run directories of one run (normally its shards) into
// out: out/results.rpr holds every input's Result records, their times
// moved onto the earliest input's clock; out/sketches.json the merged
// sketches; out/summary.json the merged summary, which is returned. Counts
// are summed, quantiles come from the merged sketches, and validity is
// judged again on the merged figures. Inputs of different targets, modes or
// speeds, the same directory or shard twice, or a mix of sharded and
// unsharded runs are refused with ErrIncompatible; out must not already hold
// a run.
func Merge(ctx context.Context, out string, dirs ...string) (replay.Summary, error) {
	runs, err := checkRuns(out, dirs)
	if err != nil {
		return replay.Summary{}, err
	}
	_, statErr := os.Stat(out)
	made := os.IsNotExist(statErr)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return replay.Summary{}, fmt.Errorf("results: merge: %w", err)
	}
	sum, err := mergeInto(ctx, out, runs)
	if err != nil {
		for _, f := range []string{replay.ResultsFile, SketchesFile, replay.SummaryFile} {
			_ = os.Remove(filepath.Join(out, f))
		}
		if made {
			_ = os.Remove(out) // the directory it made, if nothing else is in it
		}
		return replay.Summary{}, err
	}
	return sum, nil
}

func checkRuns(out string, dirs []string) ([]runDir, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no run directories given", ErrIncompatible)
	}
	outAbs, err := filepath.Abs(out)
	if err != nil {
		return nil, fmt.Errorf("results: merge: --out %s: %w", out, err)
	}
	for _, f := range []string{replay.ResultsFile, replay.SummaryFile, SketchesFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			return nil, fmt.Errorf("%w: %s already holds %s; merge into a new directory", ErrIncompatible, out, f)
		}
	}
	outInfo, _ := os.Stat(out) // nil: out does not exist yet, so no input is it
	var seenDirs []runDir      // as given, for os.SameFile
	var infos []os.FileInfo
	seenShard := make(map[string]string)
	seenRun := make(map[string]string)
	runs := make([]runDir, 0, len(dirs))
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("results: merge: %s: %w", d, err)
		}
		// The same directory under two names (a symlink, "a" and "./a")
		// is one run, whatever the path text says. A directory that cannot
		// be read is reported by ReadSummary below.
		info, _ := os.Stat(d)
		if abs == outAbs || info != nil && outInfo != nil && os.SameFile(info, outInfo) {
			return nil, fmt.Errorf("%w: %s is both an input and the output", ErrIncompatible, d)
		}
		for k, prev := range infos {
			if info != nil && os.SameFile(info, prev) {
				return nil, fmt.Errorf("%w: %s and %s are the same directory", ErrIncompatible, seenDirs[k].dir, d)
			}
		}
		if info != nil {
			seenDirs, infos = append(seenDirs, runDir{dir: d}), append(infos, info)
		}
		sf, err := ReadSummary(d)
		if err != nil {
			return nil, err
		}
		shard := "" // the label in canonical form: "00/2" is shard "0/2"
		if sf.Shard != "" {
			i, n, err := ParseShard(sf.Shard)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrBadRunDir, filepath.Join(d, replay.SummaryFile), err)
			}
			shard = strconv.Itoa(i) + "/" + strconv.Itoa(n)
		}
		if len(runs) > 0 {
			if err := compatible(runs[0], runDir{d, sf}); err != nil {
				return nil, err
			}
		}
		if shard != "" {
			if prev, ok := seenShard[shard]; ok {
				return nil, fmt.Errorf("%w: %s and %s are both shard %s", ErrIncompatible, prev, d, shard)
			}
			seenShard[shard] = d
		}
		// A copy of a run directory (or of a merge) is the same run: its
		// requests would count twice.
		for _, id := range sf.Covers() {
			if prev, ok := seenRun[id]; ok {
				return nil, fmt.Errorf("%w: %s and %s both hold run %s (a copy of one run directory?)", ErrIncompatible, prev, d, id)
			}
			seenRun[id] = d
		}
		runs = append(runs, runDir{d, sf})
	}
	return runs, nil
}

func compatible(first, r runDir) error {
	a, b := first.sf, r.sf
	switch {
	case a.Target != b.Target:
		return fmt.Errorf("%w: %s replayed against %s, %s against %s", ErrIncompatible, first.dir, a.Target, r.dir, b.Target)
	case a.Mode != b.Mode:
		return fmt.Errorf("%w: %s has timing mode %s, %s has %s", ErrIncompatible, first.dir, a.Mode, r.dir, b.Mode)
	case a.Speed != b.Speed:
		return fmt.Errorf("%w: %s ran at speed %v, %s at %v", ErrIncompatible, first.dir, a.Speed, r.dir, b.Speed)
	case a.Plan != b.Plan && (a.Plan == "" || b.Plan == ""):
		return fmt.Errorf("%w: %s and %s: only one names the plan it replayed (a run from an older reprise?), so they cannot be told to be shards of one plan",
			ErrIncompatible, first.dir, r.dir)
	case a.Plan != b.Plan:
		return fmt.Errorf("%w: %s and %s replayed different plans (%s, %s): another recording, filters, amplification or rate",
			ErrIncompatible, first.dir, r.dir, a.Plan, b.Plan)
	case (a.Shard == "") != (b.Shard == ""):
		return fmt.Errorf("%w: %s is shard %q but %s is shard %q: a sharded and an unsharded run overlap",
			ErrIncompatible, first.dir, a.Shard, r.dir, b.Shard)
	case a.Shard != "":
		_, na, _ := ParseShard(a.Shard)
		_, nb, _ := ParseShard(b.Shard)
		if na != nb {
			return fmt.Errorf("%w: %s is shard %s but %s is shard %s: different shard counts", ErrIncompatible, first.dir, a.Shard, r.dir, b.Shard)
		}
	}
	return nil
}

// anchors reads each input's results.rpr clock anchor.
func anchors(runs []runDir) ([]int64, error) {
	as := make([]int64, len(runs))
	for i, r := range runs {
		path := filepath.Join(r.dir, replay.ResultsFile)
		rd, err := recording.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadRunDir, r.dir, err)
		}
		as[i] = rd.Header().GetClock().GetAnchorUnixNano()
		rd.Close()
	}
	return as, nil
}

func mergeInto(ctx context.Context, out string, runs []runDir) (replay.Summary, error) {
	as, err := anchors(runs)
	if err != nil {
		return replay.Summary{}, err
	}
	anchor := as[0]
	for _, a := range as {
		anchor = min(anchor, a)
	}
	first := runs[0].sf
	w, err := recording.Create(filepath.Join(out, replay.ResultsFile), &rprpb.FileHeader{
		FormatVersion: recording.FormatVersion,
		Recorder:      "reprise merge",
		RecorderConfig: map[string]string{"target": first.Target, "mode": first.Mode,
			"speed": strconv.FormatFloat(first.Speed, 'g', -1, 64), "merged_runs": strconv.Itoa(len(runs))},
		Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: anchor},
	})
	if err != nil {
		return replay.Summary{}, fmt.Errorf("results: merge: %w", err)
	}
	sk := New()
	for i, r := range runs {
		rs, err := copyResults(ctx, w, r, as[i]-anchor)
		if err != nil {
			w.Close()
			return replay.Summary{}, err
		}
		if err := sk.Merge(rs); err != nil {
			w.Close()
			return replay.Summary{}, fmt.Errorf("%w: %s: %w", ErrIncompatible, r.dir, err)
		}
	}
	if err := w.Close(); err != nil {
		return replay.Summary{}, fmt.Errorf("results: merge: write %s: %w", filepath.Join(out, replay.ResultsFile), err)
	}
	if err := sk.WriteFile(filepath.Join(out, SketchesFile)); err != nil {
		return replay.Summary{}, err
	}
	sum := sumRuns(runs, sk)
	if err := writeSummary(filepath.Join(out, replay.SummaryFile), &sum); err != nil {
		return replay.Summary{}, err
	}
	return sum, nil
}

// copyResults appends a run's results to w, shifted by shift ns, and returns
// the run's sketches: its sketches.json when it has one, else built from the
// records. Either way they must account for every request summary.json
// counts as sent.
func copyResults(ctx context.Context, w *recording.Writer, r runDir, shift int64) (*Sketches, error) {
	path := filepath.Join(r.dir, replay.ResultsFile)
	rd, err := recording.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadRunDir, r.dir, err)
	}
	defer rd.Close()
	built := New()
	i := 0
	for rec, err := range rd.All() {
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRunDir, err)
		}
		if i++; i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if res := rec.GetResult(); res != nil {
			built.Add(res)
			shiftResult(res, shift)
		}
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("results: merge: write results: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sent := r.sf.Requests.Sent
	if n := built.Overall().Count(); n != int64(sent) {
		return nil, fmt.Errorf("%w: %s holds %d sent requests but %s says %d", ErrBadRunDir, path, n,
			filepath.Join(r.dir, replay.SummaryFile), sent)
	}
	skPath := filepath.Join(r.dir, SketchesFile)
	if _, err := os.Stat(skPath); err != nil {
		return built, nil
	}
	stored, err := ReadFile(skPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRunDir, err)
	}
	if n := stored.Overall().Count(); n != int64(sent) {
		return nil, fmt.Errorf("%w: %s holds %d samples but %s says %d sent", ErrBadRunDir, skPath, n,
			filepath.Join(r.dir, replay.SummaryFile), sent)
	}
	return stored, nil
}

// shiftResult moves a result's times onto the merged clock; zero times mean
// "never happened" and stay zero.
func shiftResult(r *rprpb.Result, shift int64) {
	r.IntendedNs += shift
	for _, t := range []*int64{&r.SentNs, &r.FirstByteNs, &r.DoneNs} {
		if *t != 0 {
			*t += shift
		}
	}
}

func sumRuns(runs []runDir, sk *Sketches) replay.Summary {
	first := runs[0].sf
	sum := replay.Summary{RunID: replay.NewRunID(), Plan: first.Plan, Target: first.Target, Mode: first.Mode, Speed: first.Speed, StartedAt: first.StartedAt}
	var end time.Time
	routes := make(map[string]*replay.RouteSummary)
	for _, r := range runs {
		s := r.sf
		sum.Runs = append(sum.Runs, s.Covers()...)
		if s.StartedAt.Before(sum.StartedAt) {
			sum.StartedAt = s.StartedAt
		}
		if e := s.StartedAt.Add(time.Duration(s.DurationMS * float64(time.Millisecond))); e.After(end) {
			end = e
		}
		q, rq := &sum.Requests, s.Requests
		q.Planned += rq.Planned
		q.Sent += rq.Sent
		q.Late += rq.Late
		q.Dropped += rq.Dropped
		q.Unsupported += rq.Unsupported
		q.Unbuilt += rq.Unbuilt
		e, re := &sum.Errors, s.Errors
		e.Transport += re.Transport
		e.Status4xx += re.Status4xx
		e.Status5xx += re.Status5xx
		e.GRPCNotOK += re.GRPCNotOK
		e.Build += re.Build
		e.StatusDiff += re.StatusDiff
		c, rc := &sum.Correlations, s.Correlations
		c.Found += rc.Found
		c.Applied += rc.Applied
		c.Unresolved += rc.Unresolved
		sum.TruncatedBodies += s.TruncatedBodies
		for _, rt := range s.Routes {
			m := routes[rt.Route]
			if m == nil {
				m = &replay.RouteSummary{Route: rt.Route}
				routes[rt.Route] = m
			}
			m.Count += rt.Count
			m.Errors += rt.Errors
		}
	}
	sum.DurationMS = float64(end.Sub(sum.StartedAt)) / float64(time.Millisecond)
	sum.Routes = make([]replay.RouteSummary, 0, len(routes))
	for _, m := range routes {
		sum.Routes = append(sum.Routes, *m)
	}
	sk.Apply(&sum)
	sum.Valid, sum.Reason = replay.Validity(sk.LagP99(), sum.Requests)
	return sum
}

func writeSummary(path string, sum *replay.Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	err = sum.WriteJSON(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("results: write %s: %w", path, err)
	}
	return nil
}
