package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	hstack "github.com/reprise-dev/reprise/harness/stack"
	_ "github.com/reprise-dev/reprise/harness/stack/compose" // stacks.compose
	_ "github.com/reprise-dev/reprise/harness/stack/local"   // stacks.local
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the inputs shared by the stack subcommands.
type Options struct {
	IO      *cli.IOStreams
	Driver  string
	ID      string
	Env     []string
	Timeout time.Duration
	BinDir  string
	JSON    bool
	Service string // logs: one service, or all when empty
}

// NewCmdStack returns the stack command and its subcommands.
func NewCmdStack(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios, Driver: "local", ID: hstack.DefaultID, Timeout: hstack.DefaultReadyTimeout}
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Run the reference staging stack (local processes or Docker)",
		Long: `Run the reference staging stack: gateway, marketplace, missions, sequencer
and indexer, plus PostgreSQL and Prometheus with the compose driver.

The local driver (default) builds the services and runs them as child
processes on loopback; its stack lives as long as 'reprise stack up' runs and
is torn down on Ctrl-C. The compose driver runs containers from images built
by 'make images' (nothing is pulled) and leaves them running; 'down',
'status' and 'logs' find them again by the --id label.`,
		Example: `  reprise stack up
  reprise stack up --driver compose --id demo
  reprise stack status --driver compose --id demo
  reprise stack logs gateway --driver compose --id demo
  reprise stack down --driver compose --id demo`,
		Args: cobra.NoArgs,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.Driver, "driver", opts.Driver, "stack driver: local or compose")
	pf.StringVar(&opts.ID, "id", opts.ID, "stack instance ID (compose: the dev.reprise.stack label)")

	up := &cobra.Command{
		Use:   "up",
		Short: "Start the stack and print its endpoints",
		Long: `Start every service in dependency order, wait until each is ready and print
the endpoints. With the local driver, stay in the foreground until Ctrl-C,
then stop everything; Ctrl-C during start-up also leaves nothing running.`,
		Example: `  reprise stack up
  reprise stack up --env FAULT_BUY_RACE=1
  reprise stack up --driver compose --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUp(cmd.Context(), opts) },
	}
	up.Flags().StringArrayVar(&opts.Env, "env", nil, "KEY=VALUE added to every service's environment (repeatable)")
	up.Flags().DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long each service may take to get ready")
	up.Flags().StringVar(&opts.BinDir, "bin-dir", "", "local: prebuilt service binaries (default: build from this checkout)")
	up.Flags().BoolVar(&opts.JSON, "json", false, "print the endpoints as JSON")

	down := &cobra.Command{
		Use:     "down",
		Short:   "Stop the stack and remove everything it created",
		Example: `  reprise stack down --driver compose --id demo`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runDown(cmd.Context(), opts) },
	}
	status := &cobra.Command{
		Use:     "status",
		Short:   "Show each service's state and readiness",
		Example: `  reprise stack status --driver compose --id demo`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), opts) },
	}
	status.Flags().BoolVar(&opts.JSON, "json", false, "print JSON instead of a table")
	logs := &cobra.Command{
		Use:   "logs [SERVICE]",
		Short: "Follow a service's logs (all services when none is named)",
		Long: `Follow a service's output from its first kept line until Ctrl-C. With no
SERVICE, every service's lines are interleaved, each prefixed with its name.`,
		Example: `  reprise stack logs gateway --driver compose --id demo`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Service = args[0]
			}
			return runLogs(cmd.Context(), opts)
		},
	}
	cmd.AddCommand(up, down, status, logs)
	return cmd
}

// open returns the configured driver; a bad driver name or env is bad input.
func open(ctx context.Context, opts *Options) (hstack.Driver, error) {
	sopts := []hstack.Option{hstack.ID(opts.ID), hstack.ReadyTimeout(opts.Timeout)}
	if opts.BinDir != "" {
		sopts = append(sopts, hstack.BinDir(opts.BinDir))
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, cli.BadInput(fmt.Errorf("--env %q: want KEY=VALUE", kv))
		}
		sopts = append(sopts, hstack.Env(k, v))
	}
	d, err := hstack.Open(ctx, opts.Driver, sopts...)
	if errors.Is(err, hstack.ErrUnknownDriver) {
		return nil, cli.BadInput(fmt.Errorf("--driver: %w (want one of %s)", err, strings.Join(hstack.DriverNames(), ", ")))
	}
	return d, err
}

// closeDriver releases a driver's client connection, if it has one.
func closeDriver(d hstack.Driver) {
	if c, ok := d.(io.Closer); ok {
		c.Close()
	}
}

// foreground drivers keep their stack only while this process runs.
func foreground(opts *Options) bool { return opts.Driver == "local" }

func runUp(ctx context.Context, opts *Options) error {
	d, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer closeDriver(d)
	fmt.Fprintf(opts.IO.ErrOut, "stack: starting (%s driver, id %s) ...\n", opts.Driver, opts.ID)
	if err := d.Up(ctx); err != nil {
		return fmt.Errorf("stack up: %w", err)
	}
	if err := printEndpoints(opts, d.Endpoints()); err != nil {
		return err
	}
	if !foreground(opts) {
		fmt.Fprintf(opts.IO.ErrOut, "stack: up; stop it with 'reprise stack down --driver %s --id %s'\n", opts.Driver, opts.ID)
		return nil
	}
	fmt.Fprintln(opts.IO.ErrOut, "stack: up; press Ctrl-C to stop")
	<-ctx.Done()
	fmt.Fprintln(opts.IO.ErrOut, "stack: stopping ...")
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := d.Down(dctx); err != nil {
		return fmt.Errorf("stack down: %w", err)
	}
	fmt.Fprintln(opts.IO.ErrOut, "stack: stopped")
	// Ctrl-C is how a foreground stack ends: not an error.
	return nil
}

func printEndpoints(opts *Options, eps map[string]hstack.Endpoint) error {
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(eps)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tHTTP\tGRPC")
	for _, name := range append(hstack.Names(), "prometheus") {
		if ep, ok := eps[name]; ok {
			fmt.Fprintf(tw, "%s\thttp://%s\t%s\n", name, ep.HTTP, orDash(ep.GRPC))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errForeground explains why a local stack cannot be reached from another
// command.
var errForeground = errors.New("the local driver's stack lives inside its 'reprise stack up' process; stop it there with Ctrl-C")

func runDown(ctx context.Context, opts *Options) error {
	if foreground(opts) {
		return cli.BadInput(errForeground)
	}
	d, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer closeDriver(d)
	if err := d.Down(ctx); err != nil {
		return fmt.Errorf("stack down: %w", err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "stack: %s is down\n", opts.ID)
	return nil
}

func runStatus(ctx context.Context, opts *Options) error {
	if foreground(opts) {
		return cli.BadInput(errForeground)
	}
	d, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer closeDriver(d)
	st, err := d.Status(ctx)
	if err != nil {
		return fmt.Errorf("stack status: %w", err)
	}
	return printStatus(opts, st)
}

func printStatus(opts *Options, st []hstack.ServiceStatus) error {
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tREADY\tID\tDETAIL")
	for _, s := range st {
		ready := "no"
		if s.Ready {
			ready = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Service, s.State, ready, orDash(s.ID), orDash(s.Detail))
	}
	return tw.Flush()
}
