package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/inspect"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/demoapp"
	"github.com/reprise-dev/reprise/recorders/proxy"
)

// Options are the demo's inputs.
type Options struct {
	IO       *cli.IOStreams
	Out      string
	Testers  int
	Duration time.Duration
	Seed     uint64
}

// NewCmdDemo returns the demo command.
func NewCmdDemo(ios *cli.IOStreams) *cobra.Command {
	p := demoapp.DefaultPopulation
	opts := &Options{IO: ios, Testers: p.Testers, Duration: p.Duration, Seed: p.Seed}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the end-to-end demo on the embedded default (no Docker)",
		Long: `Run the end-to-end demo on the embedded default, with no Docker: start a small
game API on loopback, put the recording proxy in front of it, drive a seeded
synthetic tester population (HTTP/1.1 and h2c) through the proxy, shut
everything down cleanly and summarise the recording.`,
		Example: `  reprise demo
  reprise demo --testers 50 --duration 10s --out demo.rpr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Out, "out", "", "where to keep the recording (default: a temporary file, removed afterwards)")
	cmd.Flags().IntVar(&opts.Testers, "testers", opts.Testers, "number of synthetic testers")
	cmd.Flags().DurationVar(&opts.Duration, "duration", opts.Duration, "how long the testers play")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the tester population")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if opts.Testers <= 0 || opts.Duration <= 0 {
		return cli.BadInput(errors.New("--testers and --duration must be positive"))
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

	// 1. The game API, on a free loopback port, speaking HTTP/1.1 and h2c.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetUnencryptedHTTP2(true)
	api := &http.Server{Handler: demoapp.NewServer(20), Protocols: &ps, ReadHeaderTimeout: 5 * time.Second}
	go api.Serve(ln)
	defer api.Close()
	upstream := "http://" + ln.Addr().String()
	say("game API on %s", upstream)

	// 2. The recording proxy in front of it.
	rec, err := proxy.NewRecorder(proxy.Config{
		Listen: "127.0.0.1:0", Upstream: upstream, Out: out, Recorder: "reprise demo",
		Labels: map[string]string{"source": "reprise demo"},
	})
	if err != nil {
		return err
	}
	if err := rec.Start(ctx); err != nil {
		return err
	}
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return rec.Shutdown(sctx)
	}
	say("recording proxy on %s, writing %s", rec.URL(), out)

	// 3. The testers play through the proxy.
	pop := demoapp.DefaultPopulation
	pop.Testers, pop.Duration, pop.Seed = opts.Testers, opts.Duration, opts.Seed
	say("%d testers play for %s ...", pop.Testers, pop.Duration)
	st, err := demoapp.Drive(ctx, rec.URL(), pop)
	if err != nil {
		shutdown()
		return err
	}
	if err := shutdown(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rs := rec.Stats()
	say("testers sent %d requests (%d transport errors); recorder wrote %d exchanges, dropped %d, %d bytes",
		st.Requests, st.Errors, rs.Exchanges, rs.Dropped, rs.FileBytes)

	// 4. Summarise what was recorded.
	r, err := recording.Open(out)
	if err != nil {
		return err
	}
	defer r.Close()
	s := inspect.New(inspect.Header(r.Header()), inspect.File(out))
	if err := s.Read(ctx, r); err != nil {
		return err
	}
	s.Close()
	rep := s.Report()
	if err := inspect.WriteText(opts.IO.Out, &rep); err != nil {
		return err
	}
	// Requests cut off when the play time ends are recorded too, so the
	// recording may hold more exchanges than the testers saw complete, never
	// fewer.
	if done := st.Requests - st.Errors; rs.Exchanges < done || rs.Dropped != 0 {
		return fmt.Errorf("demo: the recording holds %d exchanges (%d dropped), the testers completed %d", rs.Exchanges, rs.Dropped, done)
	}
	if opts.Out != "" {
		say("recording kept at %s; try: reprise cat --format summary %s", out, out)
	}
	return nil
}
