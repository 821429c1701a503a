package testers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/version"
)

// Options are the testers command's settings.
type Options struct {
	IO *cli.IOStreams

	Target       string
	AllowTargets []string
	Count        int
	Duration     time.Duration
	Seed         uint64
	Mix          string
	H2CShare     float64
	MaxActions   int
	Items        int
	Missions     int
	DropEvery    time.Duration
	Ramp         time.Duration
	TimeScale    float64
	JSON         bool
}

// ErrTargetRefused is returned for a target that is neither loopback nor
// explicitly allowed.
var ErrTargetRefused = errors.New("target refused")

// NewCmdTesters returns the testers command.
func NewCmdTesters(ios *cli.IOStreams) *cobra.Command {
	d := testers.DefaultPopulation()
	opts := &Options{
		IO: ios, Count: d.Count, Duration: d.Duration, Seed: d.Seed, Mix: d.Mix.String(),
		H2CShare: d.H2CShare, MaxActions: d.MaxActions, Items: d.Items, Missions: d.Missions,
		DropEvery: d.DropEvery, Ramp: d.Ramp, TimeScale: d.TimeScale,
	}
	cmd := &cobra.Command{
		Use:   "testers --target URL [--count N] [--duration D] [--seed S] [--mix SPEC]",
		Short: "Drive the gateway with a seeded synthetic tester population",
		Long: `Run a population of synthetic testers against the gateway's HTTP API at
--target, usually a recording proxy (reprise record) in front of the
reference stack, and print what each behaviour profile did.

Profiles: casual (browses, long think times), trader (snipes the same hot
items as the other traders at shared drop ticks, so buys contend and get
409), grinder (advances missions), flaky (short timeouts, dropped
connections and timeouts it injects itself, tagged X-Reprise-Fault and
counted apart, retries with backoff, reconnects) and bot (no think time,
heavy history and inventory reads). Every tester logs in first, has a stable
User-Agent and a consistent hardware profile, and posts NAR inference traces
to /v1/telemetry/nar. A share of them speaks h2c.

The same --seed, --count and --mix give the same testers, hardware and
intended actions. The run ends after --duration, when every tester has spent
--max-actions, or on Ctrl-C.

Load only goes to loopback targets unless --allow-target names the host:
this tool must never load a host by accident.`,
		Example: `  # 20 testers for 30s against a recording proxy on loopback
  reprise testers --target http://127.0.0.1:8080

  # A trader-heavy population, reproducibly
  reprise testers --target http://127.0.0.1:8080 --count 100 --duration 2m \
      --seed 42 --mix casual=0.2,trader=0.6,bot=0.2

  # Our own staging host, with a JSON summary
  reprise testers --target http://staging.internal:8080 \
      --allow-target staging.internal --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return run(c.Context(), opts)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInput(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	f := cmd.Flags()
	f.StringVar(&opts.Target, "target", "", "base URL of the gateway or of a recording proxy in front of it")
	f.StringArrayVar(&opts.AllowTargets, "allow-target", nil, "also allow this non-loopback host (repeatable)")
	f.IntVar(&opts.Count, "count", opts.Count, "number of testers")
	f.DurationVar(&opts.Duration, "duration", opts.Duration, "how long the testers play")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of the population")
	f.StringVar(&opts.Mix, "mix", opts.Mix, "share of each profile: casual, trader, grinder, flaky, bot")
	f.Float64Var(&opts.H2CShare, "h2c-share", opts.H2CShare, "share of testers speaking h2c instead of HTTP/1.1")
	f.IntVar(&opts.MaxActions, "max-actions", opts.MaxActions, "action budget of each tester")
	f.IntVar(&opts.Items, "items", opts.Items, "item ids the testers use (1..N)")
	f.IntVar(&opts.Missions, "missions", opts.Missions, "mission ids the testers use (1..N)")
	f.DurationVar(&opts.DropEvery, "drop-every", opts.DropEvery, "interval of the trader drops")
	f.DurationVar(&opts.Ramp, "ramp", opts.Ramp, "spread the testers' start over this long")
	f.Float64Var(&opts.TimeScale, "time-scale", opts.TimeScale, "multiply think times, backoff and injected timeouts")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as JSON")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	pop, err := opts.population()
	if err != nil {
		return cli.BadInput(fmt.Errorf("testers: %w", err))
	}
	if err := checkTarget(opts.Target, opts.AllowTargets); err != nil {
		return cli.BadInput(fmt.Errorf("testers: %w", err))
	}
	fmt.Fprintf(opts.IO.ErrOut, "reprise testers: %d testers (%s, seed %d) play against %s for up to %s\n",
		pop.Count, pop.Mix, pop.Seed, opts.Target, pop.Duration)
	st, runErr := pop.Run(ctx, opts.Target)
	if errors.Is(runErr, testers.ErrBadTarget) {
		return cli.BadInput(runErr)
	}
	// An interrupted run still reports what it did.
	if st.Profiles != nil {
		s := newSummary(opts.Target, pop, st)
		if opts.JSON {
			err = s.writeJSON(opts.IO.Out)
		} else {
			err = s.writeTable(opts.IO.Out)
		}
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

func (o *Options) population() (testers.Population, error) {
	p := testers.DefaultPopulation()
	if o.Target == "" {
		return p, errors.New("--target is required (the gateway's or the recording proxy's base URL)")
	}
	mix, err := testers.ParseMix(o.Mix)
	if err != nil {
		return p, fmt.Errorf("--mix: %w", err)
	}
	p.Count, p.Duration, p.Seed, p.Mix, p.H2CShare = o.Count, o.Duration, o.Seed, mix, o.H2CShare
	p.MaxActions, p.Items, p.Missions = o.MaxActions, o.Items, o.Missions
	p.DropEvery, p.Ramp, p.TimeScale = o.DropEvery, o.Ramp, o.TimeScale
	p.Build = version.String()
	if p.HotSet > p.Items {
		p.HotSet = p.Items
	}
	return p, p.Validate()
}

// checkTarget lets load go only to loopback or to hosts named in allow.
func checkTarget(target string, allow []string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("--target %q: want http://host:port or https://host:port", target)
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	for _, a := range allow {
		if strings.EqualFold(strings.TrimSpace(a), host) {
			return nil
		}
	}
	return fmt.Errorf("%w: --target %q is not loopback; if %s is one of our own hosts, pass --allow-target %s",
		ErrTargetRefused, target, host, host)
}
