// Command replayprof runs the same library calls as `reprise replay`
// (plan.BuildTwoPass, Schedule, replay.LoadExchanges, replay.Run) phase by
// phase, with optional CPU and heap profiles, and prints what each phase
// cost in time and memory. It is how the replay benchmark explains a
// missed target: `go tool pprof` on its profiles points at the code.
// With -onepass it plans through the public Builder in one pass instead,
// which is what -buildheapprofile needs to see the builder at its peak.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	_ "github.com/reprise-dev/reprise/extensions/standard" // the protocol drivers, as reprise replay has them
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	replaycmd "github.com/reprise-dev/reprise/internal/cmd/replay"
	"github.com/reprise-dev/reprise/internal/gcpace"
)

type options struct {
	rec, target, timing, out string
	cpuProfile, heapProfile  string
	tracePath                string
	buildHeapProfile         string
	runHeapProfile           string
	speed                    float64
	onePass                  bool
	gcHeadroomMiB            int
	procsPerCPU              int
}

func main() {
	var o options
	flag.StringVar(&o.rec, "rec", "", "recording to replay")
	flag.StringVar(&o.target, "target", "", "target base URL (loopback)")
	flag.StringVar(&o.timing, "timing", "asap", "timing mode")
	flag.Float64Var(&o.speed, "speed", 1, "speed")
	flag.StringVar(&o.out, "out", "", "run directory (results.rpr, summary.json); empty: none")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "write a heap profile taken just before Run starts")
	flag.BoolVar(&o.onePass, "onepass", false, "plan in one pass through the public Builder (as plan.BuildSeq does), not in reprise replay's two")
	flag.StringVar(&o.buildHeapProfile, "buildheapprofile", "", "with -onepass: write a heap profile of the planner's state once every exchange is added (its peak)")
	flag.IntVar(&o.gcHeadroomMiB, "gc-headroom-mib", replaycmd.DefaultGCHeadroomMiB, "GC headroom as reprise replay's --gc-headroom-mib (0: Go's default pacing)")
	flag.IntVar(&o.procsPerCPU, "procs-per-cpu", replaycmd.DefaultProcsPerCPU, "Go processors per CPU as reprise replay's --procs-per-cpu (0 or 1: Go's default)")
	flag.StringVar(&o.runHeapProfile, "runheapprofile", "", "write a heap profile while Run runs, once half the requests are sent")
	flag.StringVar(&o.tracePath, "trace", "", "write a runtime execution trace of replay.Run (go tool trace)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replayprof:", err)
		os.Exit(1)
	}
}

// phase is one step's cost: wall time and the live heap after it.
type phase struct {
	Name     string  `json:"name"`
	Seconds  float64 `json:"seconds"`
	HeapMiB  float64 `json:"live_heap_mib"`
	TotalMiB float64 `json:"alloc_total_mib"`
}

func measure(name string, start time.Time) phase {
	d := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return phase{Name: name, Seconds: d.Seconds(), HeapMiB: float64(ms.HeapAlloc) / (1 << 20), TotalMiB: float64(ms.TotalAlloc) / (1 << 20)}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.rec == "" || o.target == "" {
		return errors.New("-rec and -target are required")
	}
	target, err := url.Parse(o.target)
	if err != nil {
		return err
	}
	mode, err := plan.ParseMode(o.timing)
	if err != nil {
		return err
	}
	undo, err := replaycmd.Tune(o.gcHeadroomMiB, o.procsPerCPU) // as reprise replay does
	if err != nil {
		return err
	}
	defer undo()
	stopCPU, err := record(o.cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	defer stopCPU()
	var phases []phase

	t := time.Now()
	var p *plan.Plan
	if o.onePass {
		rd, err := recording.Open(o.rec)
		if err != nil {
			return err
		}
		var built phase
		p, built, err = build(ctx, rd, o.buildHeapProfile)
		rd.Close()
		if err != nil {
			return err
		}
		phases = append(phases, built, measure("plan.Builder.Plan", t))
	} else {
		if o.buildHeapProfile != "" {
			return errors.New("-buildheapprofile needs -onepass")
		}
		// As reprise replay plans: two reads, each closing what it opened.
		p, err = plan.BuildTwoPass(ctx, func() (iter.Seq2[*rprpb.Record, error], error) {
			rd, err := recording.Open(o.rec)
			if err != nil {
				return nil, err
			}
			return func(yield func(*rprpb.Record, error) bool) {
				defer rd.Close()
				for rec, err := range rd.All() {
					if !yield(rec, err) {
						return
					}
				}
			}, nil
		})
		if err != nil {
			return err
		}
		phases = append(phases, measure("plan.BuildTwoPass", t))
	}

	t = time.Now()
	sched, err := p.Schedule(mode, plan.Speed(o.speed))
	if err != nil {
		return err
	}
	phases = append(phases, measure("plan.Schedule", t))

	t = time.Now()
	rd, err := recording.Open(o.rec)
	if err != nil {
		return err
	}
	src, err := replay.LoadExchanges(ctx, rd.All(), p)
	rd.Close()
	if err != nil {
		return err
	}
	defer src.Close()
	phases = append(phases, measure("replay.LoadExchanges", t))

	if o.heapProfile != "" {
		if err := writeHeap(o.heapProfile); err != nil {
			return err
		}
	}
	stopTrace, err := record(o.tracePath, trace.Start, trace.Stop)
	if err != nil {
		return err
	}
	defer stopTrace()
	t = time.Now()
	var ropts []replay.Option
	if o.out != "" {
		ropts = append(ropts, replay.OutDir(o.out))
	}
	r, err := replay.New(sched, src, target, ropts...)
	if err != nil {
		return err
	}
	gcpace.HandBack() // as reprise replay does before the clock starts
	if o.runHeapProfile != "" {
		stopWatch := watchHalfway(ctx, r, o.runHeapProfile)
		defer stopWatch()
	}
	sum, err := r.Run(ctx)
	if err != nil {
		return err
	}
	phases = append(phases, measure("replay.Run", t))

	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Phases  []phase `json:"phases"`
		Sent    int     `json:"sent"`
		Errors  int     `json:"errors"`
		LagP99  float64 `json:"lag_p99_ms"`
		RunRate float64 `json:"run_rate"`
	}{phases, sum.Requests.Sent, sum.Errors.Total(), sum.Lag.P99, float64(sum.Requests.Sent) / phases[len(phases)-1].Seconds})
}

// build does what plan.BuildSeq does, through the public Builder, so that
// the builder's state can be measured once every exchange is in: that is
// when the planner holds the most.
func build(ctx context.Context, rd *recording.Reader, heapProfile string) (*plan.Plan, phase, error) {
	t := time.Now()
	b, err := plan.NewBuilder()
	if err != nil {
		return nil, phase{}, err
	}
	n := 0
	for rec, err := range rd.All() {
		if err != nil {
			return nil, phase{}, fmt.Errorf("record %d: %w", n, err)
		}
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return nil, phase{}, ctx.Err()
		}
		if err := b.AddRecord(rec); err != nil {
			return nil, phase{}, err
		}
	}
	added := measure("plan.Builder.Add (all)", t)
	if heapProfile != "" {
		if err := writeHeap(heapProfile); err != nil {
			return nil, phase{}, err
		}
	}
	return b.Plan(), added, ctx.Err()
}

// watchHalfway polls the replay's progress and writes a heap profile to
// path once half of the planned requests are sent: the run state at its
// steady size. The returned function stops the watch.
func watchHalfway(ctx context.Context, r *replay.Replayer, path string) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if p := r.Progress(); p.Planned > 0 && p.Sent*2 >= p.Planned {
				if err := writeHeap(path); err != nil {
					fmt.Fprintln(os.Stderr, "replayprof:", err)
				}
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// record starts a profile or trace into path (nothing when path is empty)
// and returns what stops it and closes the file.
func record(path string, start func(io.Writer) error, stop func()) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { stop(); f.Close() }, nil
}
