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
	return cmd
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
		if isUsage(err) {
			return cli.ExitBadInput
		}
	}
	return cli.ExitCode(err)
}

// isUsage catches cobra's own argument errors ("unknown command", "accepts 1
// arg(s)"), which it returns unwrapped.
func isUsage(err error) bool {
	var ee *cli.CodedError
	if errors.As(err, &ee) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "invalid argument", "required flag"} {
		if len(msg) >= len(p) && contains(msg, p) {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
