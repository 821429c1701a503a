package merge

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/results"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the merge command's inputs.
type Options struct {
	IO   *cli.IOStreams
	Dirs []string
	Out  string
}

// NewCmdMerge returns the merge command.
func NewCmdMerge(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "merge --out DIR RUNDIR...",
		Short: "Merge the run directories of a sharded replay into one",
		Long: `Merge run directories (normally the shards of one replay, run with --shard i/N)
into a new run directory: results.rpr holds every shard's results on one clock,
sketches.json the merged latency sketches, summary.json the summed counts with
quantiles from the merged sketches and validity judged again on the merged
figures. The merged summary is printed as reprise replay prints its own.

Run directories of different targets, timing modes or speeds, of different
plans (another recording, filters, amplification or rate), the same directory
or shard twice, one run twice (a copy or a symlink of its directory), or
sharded and unsharded runs together are refused.

Exit status: 0 valid merged run, 1 failed merged run (nothing sent, or every
request sent failed to reach the target, as for reprise replay), 2 bad input
(unreadable or incompatible run directories, --out already holds a run),
3 the merged run is invalid.`,
		Example: `  # Merge the outputs of a 3-pod Indexed Job (see docs/scale-out.md)
  reprise merge --out runs/merged runs/shard-0 runs/shard-1 runs/shard-2

  # Then render it for a pull request
  reprise report runs/merged --format markdown`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cli.BadInput(errors.New("merge: want at least one run directory"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dirs = args
			return run(cmd, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "the merged run directory to create (required)")
	return cmd
}

func run(cmd *cobra.Command, opts *Options) error {
	if opts.Out == "" {
		return cli.BadInput(errors.New("merge: --out is required"))
	}
	sum, err := results.Merge(cmd.Context(), opts.Out, opts.Dirs...)
	switch {
	case errors.Is(err, results.ErrBadRunDir), errors.Is(err, results.ErrIncompatible):
		return cli.BadInput(fmt.Errorf("merge: %w", err))
	case err != nil:
		return fmt.Errorf("merge: %w", err)
	}
	if err := results.WriteText(opts.IO.Out, &sum, opts.Out); err != nil {
		return err
	}
	if failed, why := sum.Failed(); failed {
		return fmt.Errorf("merge: failed run: %s", why)
	}
	if !sum.Valid {
		return cli.WithExit(cli.ExitInvalidRun, fmt.Errorf("merge: invalid run: %s", sum.Reason))
	}
	return nil
}
