package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/harness/inspect"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/local"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/recorders/proxy"
)

// Options are the demo's inputs.
type Options struct {
	IO       *cli.IOStreams
	Out      string
	Testers  int
	Duration time.Duration
	Seed     uint64
	Mix      string
	// MaxActions is each tester's action budget; 0 keeps the default.
	MaxActions int
	// Stack overrides the stack driver (tests); nil means the local driver.
	Stack stack.Driver
}

// NewCmdDemo returns the demo command.
func NewCmdDemo(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios, Testers: 20, Duration: 15 * time.Second, Seed: 1}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the end-to-end demo on the embedded default stack (no Docker)",
		Long: `Run the end-to-end demo on the embedded default, with no Docker:

  1. bring the reference stack up with the local driver (gateway, marketplace,
     missions, sequencer and indexer as child processes on loopback, the
     indexer on SQLite);
  2. put the recording proxy in front of the gateway;
  3. drive a seeded synthetic tester population (casual players, sniping
     traders, grinders, a flaky network, bots) through the proxy;
  4. tear everything down and summarise the recording.`,
		Example: `  reprise demo
  reprise demo --testers 50 --duration 1m --out demo.rpr
  reprise demo --mix trader=0.8,bot=0.2 --out burst.rpr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "where to keep the recording (default: a temporary file, removed afterwards)")
	cmd.Flags().IntVar(&opts.Testers, "testers", opts.Testers, "number of synthetic testers")
	cmd.Flags().DurationVar(&opts.Duration, "duration", opts.Duration, "how long the testers play")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the tester population")
	cmd.Flags().IntVar(&opts.MaxActions, "max-actions", 0, "each tester's action budget (default: the population's, 500)")
	cmd.Flags().StringVar(&opts.Mix, "mix", "", "profile mix, e.g. casual=0.3,trader=0.3,grinder=0.2,flaky=0.1,bot=0.1 (default: the population's)")
	return cmd
}

func run(ctx context.Context, opts *Options) (err error) {
	pop := testers.DefaultPopulation()
	pop.Count, pop.Duration, pop.Seed = opts.Testers, opts.Duration, opts.Seed
	if opts.MaxActions != 0 {
		pop.MaxActions = opts.MaxActions
	}
	if opts.Mix != "" {
		if pop.Mix, err = testers.ParseMix(opts.Mix); err != nil {
			return cli.BadInput(fmt.Errorf("--mix: %w", err))
		}
	}
	if err := pop.Validate(); err != nil {
		return cli.BadInput(err)
	}
	out := opts.Out
	if out == "" {
		dir, err := os.MkdirTemp("", "reprise-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		out = filepath.Join(dir, "demo.rpr")
	}
	say := func(format string, args ...any) { fmt.Fprintf(opts.IO.ErrOut, "demo: "+format+"\n", args...) }

	// 1. The reference stack.
	drv := opts.Stack
	if drv == nil {
		drv = local.New(stack.ID("demo"))
	}
	say("bringing the stack up (local driver; the first run builds the services) ...")
	t0 := time.Now()
	if err := drv.Up(ctx); err != nil {
		return fmt.Errorf("demo: stack up: %w", err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if derr := drv.Down(dctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("demo: stack down: %w", derr))
		}
		say("stack down")
	}()
	gw, ok := drv.Endpoints()["gateway"]
	if !ok || gw.HTTP == "" {
		return errors.New("demo: the stack has no gateway endpoint")
	}
	say("stack up in %s; gateway on http://%s", time.Since(t0).Round(time.Millisecond), gw.HTTP)

	// 2. The recording proxy in front of the gateway.
	rec, err := proxy.NewRecorder(proxy.Config{
		Listen: "127.0.0.1:0", Upstream: "http://" + gw.HTTP, Out: out, Recorder: "reprise demo",
		Labels: map[string]string{"source": "reprise demo", "seed": fmt.Sprint(opts.Seed)},
	})
	if err != nil {
		return err
	}
	if err := rec.Start(ctx); err != nil {
		return err
	}
	stopRecorder := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return rec.Shutdown(sctx)
	}
	say("recording proxy on %s, writing %s", rec.URL(), out)

	// 3. The testers play through the proxy.
	say("%d testers (%s) play for up to %s ...", pop.Count, pop.Mix, pop.Duration)
	st, err := pop.Run(ctx, rec.URL())
	if err != nil {
		stopRecorder()
		return err
	}
	if err := stopRecorder(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tot := st.Total()
	rs := rec.Stats()
	say("testers: %d requests, 2xx %d, 4xx %d (%d lost buys), 5xx %d, %d transport errors, %d injected by the flaky profile",
		tot.Requests, tot.Status.S2xx, tot.Status.S4xx, tot.Conflicts, tot.Status.S5xx, tot.TransportErrors, tot.Intentional)
	say("recorder: %d exchanges, %d dropped, %d bytes written", rs.Exchanges, rs.Dropped, rs.FileBytes)

	// 4. Summarise the recording.
	if err := summarise(ctx, opts, out); err != nil {
		return err
	}
	if rs.Dropped != 0 || rs.Exchanges == 0 {
		return fmt.Errorf("demo: the recorder wrote %d exchanges and dropped %d", rs.Exchanges, rs.Dropped)
	}
	if opts.Out != "" {
		say("recording kept at %s; try: reprise inspect %s", out, out)
	}
	return nil
}

func summarise(ctx context.Context, opts *Options, path string) error {
	r, err := recording.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	s := inspect.New(inspect.Header(r.Header()), inspect.File(path))
	if err := s.Read(ctx, r); err != nil {
		return err
	}
	s.Close()
	rep := s.Report()
	return inspect.WriteText(opts.IO.Out, &rep)
}
