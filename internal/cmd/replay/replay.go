package replay

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/guard"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the replay command's inputs.
type Options struct {
	IO       *cli.IOStreams
	File     string
	Target   string
	Timing   string
	Speed    float64
	Rate     float64
	Out      string
	DryRun   bool
	Shard    string
	StartAt  string
	Allow    []string
	Window   string
	Sessions []string
	Routes   []string
	Timeout  time.Duration

	// now and resolver are replaced by tests.
	now      func() time.Time
	resolver guard.Resolver
}

// NewCmdReplay returns the replay command.
func NewCmdReplay(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "replay FILE --target URL",
		Short: "Replay a recording against a staging target",
		Long: `Replay a recording against a staging target, keeping causality: a request
waits for the requests it depends on (same session, or a value first issued in
another response), and values the target issues anew (tokens, ids, Location,
ETag, cookies) are re-correlated into later requests automatically.

Timing modes: causal (default: recorded offsets ÷ speed, never before a
dependency is done), recorded (offsets only), asap (dependencies only) and
rate (sessions start at --rate per second). Latency is measured from each
request's intended send time; a run whose generator fell behind is marked
invalid (exit 3).

Only loopback targets are allowed (127.0.0.0/8, ::1, localhost, or a name
that resolves only to those); name other staging hosts with --allow-target.

The run directory (--out) receives results.rpr, summary.json and plan.json.
Exit status: 0 valid run, 1 failed run, 2 bad input or refused target,
3 invalid run.`,
		Example: `  # Replay against the local stack, twice as fast
  reprise replay capture.rpr --target http://127.0.0.1:8080 --speed 2

  # What would be replayed, without sending anything
  reprise replay capture.rpr --dry-run --window 10s..40s --session alice

  # Shard 0 of 4, all shards starting at the same wall time
  reprise replay capture.rpr --target http://stage.internal:8080 \
      --allow-target stage.internal --shard 0/4 --start-at 2026-01-02T15:04:05Z`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.BadInput(fmt.Errorf("replay: want one recording file, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Target, "target", "", "base URL to replay against, e.g. http://127.0.0.1:8080")
	f.StringVar(&opts.Timing, "timing", "causal", "timing mode: causal, recorded, asap or rate")
	f.Float64Var(&opts.Speed, "speed", plan.DefaultSpeed, "divide recorded offsets and think times by this factor")
	f.Float64Var(&opts.Rate, "rate", 0, "sessions started per second (timing rate)")
	f.StringVar(&opts.Out, "out", "", "run directory (default runs/replay-<UTC time>)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and exit without sending anything")
	f.StringVar(&opts.Shard, "shard", "", "replay shard i of N (0 <= i < N), e.g. 0/4")
	f.StringVar(&opts.StartAt, "start-at", "", "wait until this RFC 3339 wall time before starting")
	f.StringSliceVar(&opts.Allow, "allow-target", nil, "allow this non-loopback host as a target (repeatable)")
	f.StringVar(&opts.Window, "window", "", "replay only exchanges started in FROM..TO: offsets (10s..40s) or RFC 3339 times")
	f.StringSliceVar(&opts.Sessions, "session", nil, "replay only this session (repeatable)")
	f.StringSliceVar(&opts.Routes, "route", nil, "replay only route templates matching this glob (repeatable)")
	f.DurationVar(&opts.Timeout, "timeout", replay.DefaultTimeout, "per-request timeout")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if opts.now == nil {
		opts.now = time.Now
	}
	mode, schedOpts, err := opts.timing()
	if err != nil {
		return cli.BadInput(err)
	}
	rd, err := recording.Open(opts.File)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	planOpts, err := opts.filters(rd.Header().GetClock().GetAnchorUnixNano())
	if err != nil {
		rd.Close()
		return cli.BadInput(err)
	}
	p, err := plan.BuildSeq(ctx, rd.All(), planOpts...)
	rd.Close()
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %s: %w", opts.File, err))
	}
	if opts.Shard != "" {
		i, n, err := parseShard(opts.Shard)
		if err != nil {
			return cli.BadInput(err)
		}
		if p, err = p.Shard(i, n); err != nil {
			return cli.BadInput(fmt.Errorf("replay: --shard: %w", err))
		}
	}
	sched, err := p.Schedule(mode, schedOpts...)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	if opts.DryRun {
		return sched.WriteDryRun(opts.IO.Out)
	}

	target, err := opts.checkTarget(ctx)
	if err != nil {
		return err
	}
	var startAt time.Time
	if opts.StartAt != "" {
		if startAt, err = time.Parse(time.RFC3339, opts.StartAt); err != nil {
			return cli.BadInput(fmt.Errorf("replay: --start-at %q: want an RFC 3339 time: %w", opts.StartAt, err))
		}
	}
	rd, err = recording.Open(opts.File)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	src, err := replay.LoadExchanges(ctx, rd.All(), p)
	rd.Close()
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %s: %w", opts.File, err))
	}
	out := opts.Out
	if out == "" {
		out = filepath.Join("runs", "replay-"+opts.now().UTC().Format("20060102T150405Z"))
	}
	r, err := replay.New(sched, src, target, replay.OutDir(out), replay.Timeout(opts.Timeout))
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	if !startAt.IsZero() {
		if err := waitUntil(ctx, startAt, opts.now); err != nil {
			return err
		}
	}
	stop := startProgress(ctx, opts.IO, r)
	sum, err := r.Run(ctx)
	stop()
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := writeReport(opts.IO.Out, &sum, out); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case sum.Requests.Sent > 0 && sum.Errors.Transport == sum.Requests.Sent:
		return fmt.Errorf("replay: failed run: all %d requests failed to reach %s", sum.Requests.Sent, target)
	case !sum.Valid:
		return cli.WithExit(cli.ExitInvalidRun, fmt.Errorf("replay: invalid run: %s", sum.Reason))
	}
	return nil
}

func (o *Options) timing() (plan.Mode, []plan.ScheduleOption, error) {
	mode, err := plan.ParseMode(o.Timing)
	if err != nil {
		return 0, nil, fmt.Errorf("replay: --timing: %w", err)
	}
	if !(o.Speed > 0) {
		return 0, nil, fmt.Errorf("replay: --speed %v: want a number > 0", o.Speed)
	}
	so := []plan.ScheduleOption{plan.Speed(o.Speed)}
	switch {
	case mode == plan.Rate && !(o.Rate > 0):
		return 0, nil, fmt.Errorf("replay: --timing rate needs --rate > 0")
	case mode != plan.Rate && o.Rate != 0:
		return 0, nil, fmt.Errorf("replay: --rate only applies to --timing rate")
	case mode == plan.Rate:
		so = append(so, plan.SessionRate(o.Rate))
	}
	return mode, so, nil
}

func (o *Options) filters(anchor int64) ([]plan.Option, error) {
	var po []plan.Option
	if o.Window != "" {
		from, to, err := parseWindow(o.Window, anchor)
		if err != nil {
			return nil, err
		}
		po = append(po, plan.Window(from, to))
	}
	if len(o.Sessions) > 0 {
		po = append(po, plan.Sessions(o.Sessions...))
	}
	if len(o.Routes) > 0 {
		po = append(po, plan.Routes(o.Routes...))
	}
	return po, nil
}

func (o *Options) checkTarget(ctx context.Context) (*url.URL, error) {
	if o.Target == "" {
		return nil, cli.BadInput(errors.New("replay: --target is required (or use --dry-run)"))
	}
	u, err := url.Parse(o.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cli.BadInput(fmt.Errorf("replay: --target %q: want http(s)://host[:port]", o.Target))
	}
	gopts := []guard.Option{guard.Allow(o.Allow...)}
	if o.resolver != nil {
		gopts = append(gopts, guard.WithResolver(o.resolver))
	}
	if err := guard.Check(ctx, u, gopts...); err != nil {
		return nil, cli.BadInput(fmt.Errorf("replay: refusing to replay: %w", err))
	}
	return u, nil
}

// parseWindow reads FROM..TO as offsets from the recording's start
// ("10s..1m") or as RFC 3339 wall times.
func parseWindow(s string, anchor int64) (time.Duration, time.Duration, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return 0, 0, fmt.Errorf("replay: --window %q: want FROM..TO", s)
	}
	parse := func(v string) (time.Duration, error) {
		if d, err := time.ParseDuration(v); err == nil {
			return d, nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return 0, fmt.Errorf("replay: --window %q: %q is neither a duration nor an RFC 3339 time", s, v)
		}
		return time.Duration(t.UnixNano() - anchor), nil
	}
	from, err := parse(a)
	if err != nil {
		return 0, 0, err
	}
	to, err := parse(b)
	if err != nil {
		return 0, 0, err
	}
	if to <= from {
		return 0, 0, fmt.Errorf("replay: --window %q: end not after start", s)
	}
	return from, to, nil
}

func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("replay: --shard %q: want i/N with 0 <= i < N", s)
	}
	return i, n, nil
}

func waitUntil(ctx context.Context, at time.Time, now func() time.Time) error {
	d := at.Sub(now())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
