// Package extensions implements `reprise extensions`, which lists the
// compiled-in extensions by namespaced ID.
package extensions

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/extensions"
	_ "github.com/reprise-dev/reprise/extensions/standard" // the in-tree extensions
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the command's inputs.
type Options struct {
	IO        *cli.IOStreams
	Namespace string
}

// NewCmdExtensions returns the extensions command.
func NewCmdExtensions(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "extensions [NAMESPACE]",
		Short: "List the compiled-in extensions (protocol codecs, drivers, checkers, ...)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Namespace = args[0]
			}
			return run(opts)
		},
	}
	return cmd
}

func run(opts *Options) error {
	list := extensions.List(opts.Namespace)
	if len(list) == 0 {
		return cli.BadInput(fmt.Errorf("no extensions in namespace %q", opts.Namespace))
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUMMARY")
	for _, info := range list {
		fmt.Fprintf(tw, "%s\t%s\n", info.ID, info.Summary)
	}
	return tw.Flush()
}
