package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/results"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Options are the report command's inputs.
type Options struct {
	IO     *cli.IOStreams
	Dir    string
	Format string
	Out    string
}

// NewCmdReport returns the report command.
func NewCmdReport(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "report RUNDIR",
		Short: "Render a replay run's results as a table or Markdown",
		Long: `Render the summary of a run directory (written by reprise replay or
reprise merge) as the terminal table replay prints at the end of a run, or as
GitHub-flavoured Markdown for a pull request or a CI job summary.

report only renders: it exits 0 even when the run was judged invalid (the
verdict is in the output). Exit status 2 means the run directory or its
summary.json is missing or damaged, or a flag is wrong.`,
		Example: `  # The end-of-run table again
  reprise report runs/replay-20261127T140000Z

  # Markdown into the GitHub Actions job summary
  reprise report runs/merged --format markdown >> "$GITHUB_STEP_SUMMARY"

  # Markdown to a file
  reprise report runs/merged --format markdown --out report.md`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cli.BadInput(fmt.Errorf("report: want one run directory, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or markdown")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the report to this file instead of stdout")
	return cmd
}

func run(opts *Options) error {
	var write func(io.Writer, *replay.Summary, string) error
	switch opts.Format {
	case "text":
		write = results.WriteText
	case "markdown", "md":
		write = results.WriteMarkdown
	default:
		return cli.BadInput(fmt.Errorf("report: --format %q: want text or markdown", opts.Format))
	}
	sum, err := results.ReadSummary(opts.Dir)
	if err != nil {
		if errors.Is(err, results.ErrBadRunDir) {
			return cli.BadInput(fmt.Errorf("report: %w", err))
		}
		return fmt.Errorf("report: %w", err)
	}
	if opts.Out == "" {
		return write(opts.IO.Out, &sum, opts.Dir)
	}
	f, err := os.Create(opts.Out)
	if err != nil {
		return cli.BadInput(fmt.Errorf("report: --out: %w", err))
	}
	bw := bufio.NewWriter(f)
	err = write(bw, &sum, opts.Dir)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", opts.Out, err)
	}
	return nil
}
