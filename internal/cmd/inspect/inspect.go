package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/inspect"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the inspect command's inputs.
type Options struct {
	IO   *cli.IOStreams
	File string
	JSON bool
	Top  int
}

// NewCmdInspect returns the inspect command.
func NewCmdInspect(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Summarise a recording",
		Long: `Summarise a recording in one streaming pass: its duration, exchange and
session counts, protocols, methods, HTTP and gRPC statuses, a requests-per-second
curve, the busiest route templates, the entities (e.g. items/123) touched most
often and by the most overlapping exchanges (race candidates), the largest
bodies and the errors.

A damaged or truncated recording is inspected up to the damage; a warning on
stderr names the byte offset, and the exit status stays 0.`,
		Example: `  # A report to read
  reprise inspect capture.rpr

  # Twenty entries per ranked list
  reprise inspect --top 20 capture.rpr

  # Machine-readable, with the full rate series (at most 600 points)
  reprise inspect --json capture.rpr | jq '.entities.by_peak'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.BadInput(fmt.Errorf("inspect: want one recording file, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "write the report as JSON")
	cmd.Flags().IntVar(&opts.Top, "top", inspect.DefaultTop, "entries per ranked list (routes, entities, bodies, errors)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if opts.Top < 1 {
		return cli.BadInput(fmt.Errorf("inspect: --top must be at least 1, got %d", opts.Top))
	}
	r, err := recording.Open(opts.File)
	if err != nil {
		return cli.BadInput(fmt.Errorf("inspect: %w", err))
	}
	defer r.Close()
	s := inspect.New(inspect.Top(opts.Top), inspect.Header(r.Header()), inspect.File(opts.File))
	if err := s.Read(ctx, r); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("inspect: %s: %w", opts.File, err)
	}
	rep := s.Report()
	for _, d := range rep.Damage {
		what := "corrupt"
		if d.Truncated {
			what = "truncated"
		}
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s: %s at byte %d (after %d records): %s; the report covers what survived\n",
			opts.File, what, d.Offset, d.Records, d.Reason)
	}
	if opts.JSON {
		return inspect.WriteJSON(opts.IO.Out, &rep)
	}
	return inspect.WriteText(opts.IO.Out, &rep)
}
