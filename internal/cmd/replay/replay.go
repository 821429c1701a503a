package replay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	_ "github.com/reprise-dev/reprise/extensions/standard" // the protocol drivers the replayer looks up
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/guard"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/results"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/gcpace"
	"github.com/reprise-dev/reprise/internal/procs"
	"github.com/reprise-dev/reprise/scenarios"
)

// Options are the replay command's inputs. The settings a scenario can hold
// are in Over (flags given on the command line, nil when not given); the
// rest are the verb's own.
type Options struct {
	IO       *cli.IOStreams
	File     string
	Scenario string
	DryRun   bool
	Timeout  time.Duration
	Over     *scenarios.Overrides

	CredentialsFile    string
	CredentialsCommand string

	CACert             string
	ClientCert         string
	ClientKey          string
	InsecureSkipVerify bool

	Admin string

	// GCHeadroomMiB is the heap the GC may grow by between cycles (see
	// internal/gcpace); 0 leaves Go's default pacing.
	GCHeadroomMiB int
	// ProcsPerCPU is how many Go processors (GOMAXPROCS) run per CPU (see
	// internal/procs); 0 or 1 leaves Go's default.
	ProcsPerCPU int

	// now, resolver and openStack are replaced by tests.
	now       func() time.Time
	resolver  guard.Resolver
	openStack stackOpener
}

// DefaultGCHeadroomMiB is --gc-headroom-mib's default: room for the
// garbage of a few thousand requests in flight, small beside a large plan.
const DefaultGCHeadroomMiB = 48

// DefaultProcsPerCPU is --procs-per-cpu's default: two Ps per CPU cut the
// generator lag's tail (docs/replay.md, Timing accuracy); more only contend.
const DefaultProcsPerCPU = 2

// maxGCHeadroomMiB (1 TiB) keeps the headroom in bytes far from wrapping.
const maxGCHeadroomMiB = 1 << 20

// NewCmdReplay returns the replay command.
func NewCmdReplay(ios *cli.IOStreams) *cobra.Command { return newCmdReplay(&Options{IO: ios}) }

// newCmdReplay binds the flags to opts, whose unexported fields tests set.
func newCmdReplay(opts *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay [FILE] [--scenario S.yaml] [--target URL|driver[/service]]",
		Short: "Replay a recording against a staging target",
		Long: `Replay a recording against a staging target, keeping causality: a request
waits for the requests it depends on (same session, or a value first issued in
another response), and values the target issues anew (tokens, ids, Location,
ETag, cookies) are re-correlated into later requests automatically.

The replay is described by flags, or by a scenario file (--scenario, see
docs/scenarios.md) that flags override: a flag given on the command line
wins, a flag not given leaves the file's value alone. FILE, when given,
replaces the scenario's recording.path.

Timing modes: causal (default: recorded offsets ÷ speed, never before a
dependency is done), recorded (offsets only), asap (dependencies only) and
rate (sessions start at --rate per second, or follow --rate-curve, each
replayed causally from its new start). Latency is measured from each
request's intended send time; a run whose generator fell behind is marked
invalid (exit 3).

--amplify N replays every session N times, clones under distinct identities
(--collide: sharing the originals' identities, for contention), clone k
started k × --clone-offset later. Amplification applies after the filters
and before --shard, so clones are sharded too.

Only loopback targets are allowed (127.0.0.0/8, ::1, localhost, or a name
that resolves only to those); name other staging hosts with --allow-target.
A stack target (--target local, a scenario's target.stack) is brought up
for the replay and torn down after it, Ctrl-C included.

The run directory (--out) receives results.rpr, summary.json, sketches.json
and plan.json; merge shard runs with reprise merge.
Exit status: 0 valid run, 1 failed run, 2 bad input or refused target,
3 invalid run, 130 interrupted. See docs/replay.md.`,
		Example: `  # Replay against the local stack, twice as fast
  reprise replay capture.rpr --target http://127.0.0.1:8080 --speed 2

  # What would be replayed, without sending anything
  reprise replay capture.rpr --dry-run --window 10s..40s --session alice

  # A scenario file, with its speed overridden
  reprise replay --scenario scenarios/examples/smoke.yaml --speed 4

  # Three copies of every session, clones 50ms apart, sessions ramping up
  reprise replay capture.rpr --target http://127.0.0.1:8080 \
      --amplify 3 --clone-offset 50ms --rate-curve 0s:5,30s:50,60s:5

  # Shard 0 of 4, all shards starting at the same wall time
  reprise replay capture.rpr --target https://stage.internal:8443 --ca-cert stage-ca.pem \
      --allow-target stage.internal --shard 0/4 --start-at 2026-01-02T15:04:05Z`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.BadInput(fmt.Errorf("replay: want at most one recording file, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInput(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	f := cmd.Flags()
	f.StringVar(&opts.Scenario, "scenario", "", "scenario file (YAML) describing the replay; flags override it")
	opts.Over = scenarios.BindFlags(f)
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and exit without sending anything")
	f.DurationVar(&opts.Timeout, "timeout", replay.DefaultTimeout, "per-request timeout")
	f.StringVar(&opts.CredentialsFile, "credentials", "", "YAML or JSON file mapping recorded placeholders or session keys to tokens (mode 600)")
	f.StringVar(&opts.CredentialsCommand, "credentials-command", "", "command printing a token on stdout, run per session and placeholder (REPRISE_SESSION, REPRISE_PLACEHOLDER in its env)")
	f.StringVar(&opts.CACert, "ca-cert", "", "PEM file of CA certificates to trust for an https target (instead of the system's)")
	f.StringVar(&opts.ClientCert, "client-cert", "", "PEM client certificate for an https target (with --client-key)")
	f.StringVar(&opts.ClientKey, "client-key", "", "PEM private key of --client-cert")
	f.BoolVar(&opts.InsecureSkipVerify, "insecure-skip-verify", false, "do not verify the https target's certificate (loud; for throwaway staging only)")
	f.IntVar(&opts.GCHeadroomMiB, "gc-headroom-mib", DefaultGCHeadroomMiB,
		"MiB of garbage between GC cycles, instead of as much as the live heap (the plan): bounds peak memory; 0: Go's default, and so are GOGC or GOMEMLIMIT when set")
	f.IntVar(&opts.ProcsPerCPU, "procs-per-cpu", DefaultProcsPerCPU,
		fmt.Sprintf("Go processors (GOMAXPROCS) per CPU, so that a due request need not queue behind response handling: up to %d; 0 or 1: Go's default, and so is GOMAXPROCS when set", procs.MaxPerCPU))
	f.StringVar(&opts.Admin, "admin", "", "serve Prometheus /metrics for the running replay on this address, e.g. 127.0.0.1:9464")
	return cmd
}

// Tune sets up the runtime for a replay, as --gc-headroom-mib and
// --procs-per-cpu ask, and returns what undoes it; a value out of range is
// an error that names the flag. The plan is large and never changes, while
// a request's garbage does not grow with it: the GC's headroom is fixed
// rather than the size of the live heap, which would double the peak
// (docs/replay.md, Output). Two Go processors per CPU cut the generator
// lag's tail (docs/replay.md, Timing accuracy).
func Tune(gcHeadroomMiB, procsPerCPU int) (undo func(), err error) {
	if gcHeadroomMiB < 0 || gcHeadroomMiB > maxGCHeadroomMiB {
		return nil, fmt.Errorf("replay: --gc-headroom-mib %d: want 0 to %d", gcHeadroomMiB, maxGCHeadroomMiB)
	}
	if procsPerCPU < 0 || procsPerCPU > procs.MaxPerCPU {
		return nil, fmt.Errorf("replay: --procs-per-cpu %d: want 0 to %d", procsPerCPU, procs.MaxPerCPU)
	}
	unscale := procs.Scale(procsPerCPU)
	stop := gcpace.Start(uint64(gcHeadroomMiB) << 20)
	return func() { stop(); unscale() }, nil
}

func run(ctx context.Context, opts *Options) error {
	if opts.now == nil {
		opts.now = time.Now
	}
	sc, err := opts.resolve()
	if err != nil {
		return cli.BadInput(err)
	}
	undo, err := Tune(opts.GCHeadroomMiB, opts.ProcsPerCPU)
	if err != nil {
		return cli.BadInput(err)
	}
	defer undo()
	mode, schedOpts, err := timing(sc)
	if err != nil {
		return cli.BadInput(err)
	}
	file := sc.Recording.Path
	rd, err := recording.Open(file)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	anchor := time.Unix(0, rd.Header().GetClock().GetAnchorUnixNano()).UTC()
	planOpts, keep, err := filters(sc, anchor, opts.Over.Window != nil)
	if err != nil {
		rd.Close()
		return cli.BadInput(err)
	}
	rd.Close()
	// Two reads of the file (responses, then requests) hold far less than
	// one: request values no response issued are never kept.
	p, err := plan.BuildTwoPass(ctx, func() (iter.Seq2[*rprpb.Record, error], error) {
		rd, err := recording.Open(file)
		if err != nil {
			return nil, err
		}
		return func(yield func(*rprpb.Record, error) bool) {
			defer rd.Close()
			for rec, err := range filterSeq(rd.All(), keep) {
				if !yield(rec, err) {
					return
				}
			}
		}, nil
	}, planOpts...)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %s: %w", file, err))
	}
	if p, err = shape(p, sc); err != nil {
		return cli.BadInput(err)
	}
	sched, err := p.Schedule(mode, schedOpts...)
	if err != nil {
		return cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	if opts.DryRun {
		return sched.WriteDryRun(opts.IO.Out)
	}

	ropts, err := opts.replayOptions(sc, p, anchor)
	if err != nil {
		return cli.BadInput(err)
	}
	out := sc.Out
	if out == "" {
		out = filepath.Join("runs", sc.Name+"-"+opts.now().UTC().Format("20060102T150405Z"))
	}
	if _, err := os.Stat(out); errors.Is(err, fs.ErrNotExist) {
		// Made here: a run that fails before writing anything leaves no
		// empty directory behind (Remove refuses a directory with files).
		defer os.Remove(out)
	}
	src, err := loadExchanges(ctx, file, p, out, keep, planOpts)
	if err != nil {
		return err
	}
	defer src.Close()

	target, down, err := opts.target(ctx, sc)
	if err != nil {
		return err
	}
	defer down()
	ropts = append(ropts, replay.OutDir(out), replay.Timeout(opts.Timeout))
	r, err := replay.New(sched, src, target, ropts...)
	if err != nil {
		return cli.BadInput(err) // already says "replay: "
	}
	// Planning's garbage (the builder's state, grown slices) is free
	// now: handed back before the run, the run's peak is its own. Before
	// --start-at's wait, so that shards start together.
	gcpace.HandBack()
	stopAdmin, err := opts.serveAdmin(ctx, r)
	if err != nil {
		return err
	}
	defer stopAdmin()
	if !sc.StartAt.IsZero() {
		if err := waitUntil(ctx, sc.StartAt.Time, opts.now); err != nil {
			return err
		}
	}
	stop := startProgress(ctx, opts.IO, r)
	sum, runErr := r.Run(ctx)
	stop()
	// A run the exchange store ended still wrote its results and summary:
	// it is sketched and summed up like any other before it fails.
	if runErr != nil && !errors.Is(runErr, replay.ErrStore) {
		return fmt.Errorf("replay: %w", runErr)
	}
	// The per-route sketches make the run mergeable (reprise merge); they
	// are built from results.rpr so the replayer stays free of the results
	// package, which imports it.
	if _, err := results.SketchRun(context.WithoutCancel(ctx), out); err != nil {
		return fmt.Errorf("replay: %w", errors.Join(runErr, err))
	}
	if err := results.WriteText(opts.IO.Out, &sum, out); err != nil {
		return errors.Join(runErr, err)
	}
	failed, why := sum.Failed()
	switch {
	case runErr != nil:
		return fmt.Errorf("replay: %w", runErr)
	case ctx.Err() != nil:
		return ctx.Err()
	case failed:
		return fmt.Errorf("replay: failed run: %s", why)
	case !sum.Valid:
		return cli.WithExit(cli.ExitInvalidRun, fmt.Errorf("replay: invalid run: %s", sum.Reason))
	}
	return nil
}

// shape amplifies the filtered plan, then shards it: clones are sharded
// like any session.
func shape(p *plan.Plan, sc *scenarios.Scenario) (*plan.Plan, error) {
	var err error
	if a := sc.Amplify; a.Factor > 1 {
		p, err = p.Amplify(a.Factor, plan.Collide(a.Collide), plan.CloneOffset(a.Offset.Std()))
		if err != nil {
			return nil, fmt.Errorf("replay: amplify: %w", err)
		}
	}
	if s := sc.Shard; !s.IsZero() {
		if p, err = p.Shard(s.Index, s.Count); err != nil {
			return nil, fmt.Errorf("replay: shard %s: %w", s, err)
		}
	}
	return p, nil
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

// loadExchanges stores the planned exchanges for the run, in the run
// directory (disk, where /tmp may be a tmpfs in memory). A bad recording
// is bad input; trouble with the store's own file is a failure.
//
// The store reads the records the plan was built from, through the same
// filters: a record the filters dropped that shares an id with a planned
// one (a concatenated file, an edited JSONL) must not be the one sent.
func loadExchanges(ctx context.Context, file string, p *plan.Plan, out string, keep func(*rprpb.Exchange) bool, planOpts []plan.Option) (*replay.Store, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("replay: run directory: %w", err)
	}
	selects, err := plan.Selects(planOpts...)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	rd, err := recording.Open(file)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("replay: %w", err))
	}
	src, err := replay.LoadExchanges(ctx, filterSeq(filterSeq(rd.All(), keep), selects), p, replay.SpillDir(out))
	rd.Close()
	switch {
	case err == nil:
		return src, nil
	case errors.Is(err, replay.ErrStore) || ctx.Err() != nil:
		return nil, fmt.Errorf("replay: %w", err)
	}
	return nil, cli.BadInput(fmt.Errorf("replay: %s: %w", file, err))
}
