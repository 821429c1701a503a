package root

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/extensions"
	"github.com/reprise-dev/reprise/internal/cmd/version"
)

// NewCmdRoot returns the root command with every verb attached.
func NewCmdRoot(ios *cli.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reprise",
		Short: "Record real tester traffic, replay it against staging, and find what breaks",
		Long: `Reprise records real tester traffic (HTTP/1.1, HTTP/2, gRPC, WebSocket) at a
proxy, replays it against a local staging stack with faithful timing, causal
order and re-correlated IDs, and watches the stack for races, regressions and
incidents.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInput(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	cmd.AddCommand(
		version.NewCmdVersion(ios),
		extensions.NewCmdExtensions(ios),
	)
	for _, add := range verbs {
		cmd.AddCommand(add(ios))
	}
	markUsageErrors(cmd)
	return cmd
}

// markUsageErrors makes cobra's own argument errors bad input (exit 2) at
// their source: flag errors go through the FlagErrorFunc (inherited by every
// subcommand), and each command's argument validator is wrapped. A group
// command (subcommands, no run function of its own) gets a validator that
// names an unknown subcommand, as cobra's default would, and prints its help
// when called alone.
func markUsageErrors(cmd *cobra.Command) {
	switch args := cmd.Args; {
	case cmd.HasSubCommands() && !cmd.Runnable():
		cmd.Args = func(c *cobra.Command, a []string) error {
			if len(a) > 0 {
				return cli.BadInput(fmt.Errorf("unknown command %q for %q", a[0], c.CommandPath()))
			}
			return nil
		}
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	case args != nil:
		cmd.Args = func(c *cobra.Command, a []string) error { return cli.BadInput(args(c, a)) }
	}
	for _, sub := range cmd.Commands() {
		markUsageErrors(sub)
	}
}

// verbs lists further commands; each verb package adds itself in verbs.go.
var verbs []func(*cli.IOStreams) *cobra.Command

// Run executes the command line and returns the exit code. Errors are
// printed once, here.
func Run(ctx context.Context, ios *cli.IOStreams, args []string) int {
	cmd := NewCmdRoot(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(ios.ErrOut, "reprise: interrupted")
		} else {
			fmt.Fprintf(ios.ErrOut, "reprise: %v\n", err)
		}
	}
	return cli.ExitCode(err)
}
