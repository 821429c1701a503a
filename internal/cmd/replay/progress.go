package replay

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/internal/cli"
)

// progressEvery is how often the bar polls the replayer.
const progressEvery = 200 * time.Millisecond

// startProgress shows a live bar on a terminal and returns the function
// that removes it; off a terminal it does nothing.
func startProgress(ctx context.Context, ios *cli.IOStreams, r *replay.Replayer) (stop func()) {
	if !ios.IsTerminal {
		return func() {}
	}
	// The bar's container is not tied to ctx: cancelling it would drop the
	// final frame; stop ends the poller and completes the bar instead.
	// ios.IsTerminal already decided that a bar is wanted, so refresh is
	// forced rather than left to mpb's own terminal detection.
	ctx, cancel := context.WithCancel(ctx)
	p := mpb.New(mpb.WithOutput(ios.ErrOut), mpb.WithRefreshRate(progressEvery), mpb.WithAutoRefresh())
	total := int64(r.Progress().Planned)
	var shown atomic.Pointer[replay.Progress] // written by the poller, read by the bar
	shown.Store(&replay.Progress{})
	bar := p.AddBar(total,
		mpb.PrependDecorators(decor.Name("replay "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			last := shown.Load()
			rate := 0.0
			if s := last.Elapsed.Seconds(); s > 0 {
				rate = float64(last.Sent) / s
			}
			return fmt.Sprintf(" %.0f req/s  in-flight %d  errors %d  p99 %s  lag p99 %s",
				rate, last.InFlight, last.Errors, last.LatencyP99.Round(time.Millisecond), last.LagP99.Round(100*time.Microsecond))
		})),
	)
	done := make(chan struct{})
	go func() { // owned by stop: it ends when stop cancels ctx
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				last := r.Progress()
				shown.Store(&last)
				bar.SetCurrent(int64(last.Done))
			}
		}
	}()
	return func() {
		cancel()
		<-done
		last := r.Progress()
		shown.Store(&last)
		bar.SetCurrent(int64(last.Done))
		bar.SetTotal(-1, true) // complete, so Wait renders the last frame and returns
		p.Wait()
	}
}
