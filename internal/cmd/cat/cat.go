package cat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Output formats.
const (
	FormatJSONL   = "jsonl"
	FormatSummary = "summary"
)

// Options are the cat command's settings.
type Options struct {
	IO *cli.IOStreams
	// File is the recording's path, or "-" for standard input.
	File   string
	Format string
	// Strict turns any damage into a failure (exit 2) once everything that
	// survived has been printed.
	Strict bool
}

// NewCmdCat returns the cat command.
func NewCmdCat(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios, Format: FormatJSONL}
	cmd := &cobra.Command{
		Use:   "cat [--format jsonl|summary] [--strict] FILE|-",
		Short: "Print a recording as JSON Lines or one line per record",
		Long: `Print a recording, record by record, in constant memory.

--format jsonl (the default) writes the JSON Lines interchange: a header line,
then one object per record, lossless, so that 'reprise import jsonl' rebuilds
the same recording. Text bodies are plain strings; binary ones are base64 with
"encoding":"base64"; headers are [name, value...] arrays in wire order.

--format summary writes one line per record for people:
time, session, method and path, status, duration. A replay result (in a run's
results stream) reads the same way, with its route, its latency measured from
the intended send time, and "(replay of #ID)" naming the recorded exchange.

A damaged recording is salvaged: every record that survived is printed, and
a warning naming the file, the byte offset and the records read so far goes
to standard error for each damaged block (the rest is still read) and for a
cut-off end. The exit status stays 0 unless --strict is given.`,
		Example: `  # Every request of a recording, as JSON, through jq
  reprise cat tester.rpr | jq -r 'select(.kind=="exchange") | "\(.request.method) \(.request.path) \(.response.status)"'

  # Requests slower than 500 ms
  reprise cat tester.rpr | jq 'select(.duration_ms > 500)'

  # A quick look
  reprise cat --format summary tester.rpr | head

  # Edit a recording with jq and turn it back into one
  reprise cat a.rpr | jq -c 'select(.kind!="exchange" or .session=="player-42")' | reprise import jsonl - --out b.rpr

  # In CI: fail on a damaged recording
  reprise cat --strict --format summary testdata/recordings/smoke.rpr > /dev/null`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.File = args[0]
			return run(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", FormatJSONL, "output format: jsonl or summary")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "exit with status 2 when the recording is damaged")
	return cmd
}

// recordWriter is what each output format provides.
type recordWriter interface {
	header(h *rprpb.FileHeader) error
	record(rec *rprpb.Record) error
}

func run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	out := bufio.NewWriterSize(opts.IO.Out, 64<<10)
	var w recordWriter
	switch opts.Format {
	case FormatJSONL:
		w = &jsonlWriter{enc: jsonl.NewEncoder(out)}
	case FormatSummary:
		w = &summaryWriter{w: out}
	default:
		return cli.BadInput(fmt.Errorf("cat: --format %q: want %s or %s", opts.Format, FormatJSONL, FormatSummary))
	}

	r, name, err := open(opts)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := w.header(r.Header()); err != nil {
		return fmt.Errorf("cat: %w", err)
	}

	var printed, damaged int64
	truncated := false
loop:
	for {
		if err := ctx.Err(); err != nil {
			out.Flush()
			return fmt.Errorf("cat: %w", err)
		}
		rec, err := r.Next()
		switch {
		case err == nil:
			if err := w.record(rec); err != nil {
				return fmt.Errorf("cat: %w", err)
			}
			printed++
		case errors.Is(err, io.EOF):
			break loop
		case errors.Is(err, recording.ErrCorrupt):
			// The reader resynchronises on the next block when asked again.
			damaged++
			warn(opts.IO, out, "%v; skipping to the next intact block", err)
		case errors.Is(err, recording.ErrTruncated):
			truncated = true
			warn(opts.IO, out, "%s", truncation(name, err, printed))
			break loop
		default:
			out.Flush()
			return fmt.Errorf("cat: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("cat: write: %w", err)
	}
	if damaged > 0 {
		warn(opts.IO, out, "%s: %d damaged block(s) skipped; %d records printed", name, damaged, printed)
	}
	if opts.Strict && (damaged > 0 || truncated) {
		return cli.BadInput(fmt.Errorf("cat: %s is damaged (--strict)", name))
	}
	return nil
}

// open opens the recording; failing to read its header is bad input.
func open(opts *Options) (*recording.Reader, string, error) {
	if opts.File == "-" {
		r, err := recording.NewReader(opts.IO.In, recording.Name("stdin"))
		if err != nil {
			return nil, "stdin", cli.BadInput(fmt.Errorf("cat: %w", err))
		}
		return r, "stdin", nil
	}
	r, err := recording.Open(opts.File)
	if err != nil {
		return nil, opts.File, cli.BadInput(fmt.Errorf("cat: %w", err))
	}
	return r, opts.File, nil
}

func truncation(name string, err error, printed int64) string {
	var pe *recording.PositionError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s is truncated at byte %d after %d records (%s); every record before it was printed",
			name, pe.Offset, printed, pe.Reason)
	}
	return fmt.Sprintf("%s is truncated after %d records: %v", name, printed, err)
}

// warn flushes the records printed so far, so that on a terminal the warning
// appears where the damage is.
func warn(ios *cli.IOStreams, out *bufio.Writer, format string, args ...any) {
	out.Flush()
	fmt.Fprintf(ios.ErrOut, "reprise cat: warning: "+format+"\n", args...)
}

type jsonlWriter struct{ enc *jsonl.Encoder }

func (j *jsonlWriter) header(h *rprpb.FileHeader) error { return j.enc.EncodeHeader(h) }
func (j *jsonlWriter) record(rec *rprpb.Record) error   { return j.enc.Encode(rec) }

var (
	_ recordWriter = (*jsonlWriter)(nil)
	_ recordWriter = (*summaryWriter)(nil)
)
