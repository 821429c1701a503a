package importcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/gor"
	"github.com/reprise-dev/reprise/recorders/importers/har"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
)

// Input formats.
const (
	FormatJSONL = "jsonl"
	FormatHAR   = "har"
	FormatGor   = "gor"
)

// Options are the import command's settings.
type Options struct {
	IO *cli.IOStreams
	// Format is jsonl, har or gor.
	Format string
	// File is the input path, or "-" for standard input.
	File string
	// Out is the recording to create.
	Out string
	// Force allows Out to be replaced.
	Force bool
	// SkipInvalid skips and counts bad entries, records or lines instead of
	// failing the import.
	SkipInvalid bool
	// SessionChain, RedactHeaders, RedactQuery and RedactFields configure the
	// HAR and GoReplay importers; they do not apply to jsonl.
	SessionChain  string
	RedactHeaders []string
	RedactQuery   []string
	RedactFields  []string
}

// NewCmdImport returns the import command.
func NewCmdImport(ios *cli.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "import jsonl|har|gor FILE|- --out OUT.rpr",
		Short: "Import JSON Lines, HAR or GoReplay into a recording",
		Long: `Import traffic captured elsewhere into a recording.

jsonl  The JSON Lines that 'reprise cat' writes, possibly edited (jq). The
       import is lossless: header and records are kept exactly as given, with
       no session derivation and no redaction, because the stream is already
       a recording (already redacted when it was recorded). --session-chain
       and --redact-* are refused for it.
har    An HTTP Archive (HAR 1.2) from browser devtools, Charles, mitmproxy or
       Fiddler.
gor    A GoReplay text capture (.gor).

HAR and GoReplay imports derive session keys and redact secrets exactly as
the recording proxy does: --session-chain replaces the default extractor
chain, and --redact-header, --redact-query and --redact-field add names to
the default redaction policy (they never remove any).

The output appears only when the import succeeds; an existing file is
replaced only with --force. A summary (records imported, skipped and why,
sessions) goes to standard error.`,
		Example: `  # Round trip through jq: keep one player's traffic
  reprise cat full.rpr | jq -c 'select(.kind!="exchange" or .session=="player-42")' \
    | reprise import jsonl - --out player-42.rpr

  # A devtools export, with sessions keyed on a custom header
  reprise import har trace.har --out trace.rpr --session-chain header:X-Player-Id,jwt-sub

  # A GoReplay capture, also redacting an extra header and a JSON field
  reprise import gor requests.gor --out gor.rpr --redact-header X-Device-Token --redact-field pin

  # Salvage what is valid in a damaged capture
  reprise import gor broken.gor --out salvaged.rpr --skip-invalid --force`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Format, opts.File = args[0], args[1]
			return run(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Out, "out", "o", "", "the recording to write (required)")
	f.BoolVar(&opts.Force, "force", false, "replace --out if it exists")
	f.BoolVar(&opts.SkipInvalid, "skip-invalid", false, "skip and count bad entries, records or lines instead of failing")
	f.StringVar(&opts.SessionChain, "session-chain", "", "session key extractors, in order (har, gor; default "+session.DefaultSpec+")")
	f.StringSliceVar(&opts.RedactHeaders, "redact-header", nil, "also redact this header's value (har, gor; repeatable)")
	f.StringSliceVar(&opts.RedactQuery, "redact-query", nil, "also redact this query or form parameter (har, gor; repeatable)")
	f.StringSliceVar(&opts.RedactFields, "redact-field", nil, "also redact this JSON field at any depth (har, gor; repeatable)")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := validate(opts); err != nil {
		return cli.BadInput(fmt.Errorf("import: %w", err))
	}
	in, name, err := openInput(opts)
	if err != nil {
		return err
	}
	defer in.Close()
	out := &output{path: opts.Out, force: opts.Force}
	defer out.discard()

	var summary string
	switch opts.Format {
	case FormatJSONL:
		summary, err = importJSONL(ctx, in, name, out, opts.SkipInvalid, opts.IO.ErrOut)
	default:
		summary, err = importOther(ctx, opts, in, name, out)
	}
	if err != nil {
		return classify(err)
	}
	if err := out.commit(); err != nil {
		return classify(err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "reprise import: %s: %s → %s\n", name, summary, opts.Out)
	return nil
}

func validate(opts *Options) error {
	switch opts.Format {
	case FormatJSONL:
		if opts.SessionChain != "" || len(opts.RedactHeaders)+len(opts.RedactQuery)+len(opts.RedactFields) > 0 {
			return errors.New("--session-chain and --redact-* do not apply to jsonl: JSON Lines is the lossless interchange of a recording, imported exactly as it is")
		}
	case FormatHAR, FormatGor:
	default:
		return fmt.Errorf("unknown format %q (want %s, %s or %s)", opts.Format, FormatJSONL, FormatHAR, FormatGor)
	}
	if opts.Out == "" {
		return errors.New("--out is required")
	}
	if opts.Out == "-" {
		return errors.New("--out must name a file: a recording is not written to standard output")
	}
	if fi, err := os.Stat(filepath.Dir(opts.Out)); err != nil || !fi.IsDir() {
		return fmt.Errorf("--out %s: directory %s does not exist", opts.Out, filepath.Dir(opts.Out))
	}
	if !opts.Force {
		if _, err := os.Stat(opts.Out); err == nil {
			return fmt.Errorf("%s exists; use --force to replace it", opts.Out)
		}
	}
	return nil
}

func openInput(opts *Options) (io.ReadCloser, string, error) {
	if opts.File == "-" {
		return io.NopCloser(opts.IO.In), "stdin", nil
	}
	f, err := os.Open(opts.File)
	if err != nil {
		return nil, opts.File, cli.BadInput(fmt.Errorf("import: %w", err))
	}
	return f, opts.File, nil
}

// classify makes every error about the input exit with the bad-input code.
func classify(err error) error {
	if errors.Is(err, jsonl.ErrInvalid) || errors.Is(err, importers.ErrInvalid) ||
		errors.Is(err, importers.ErrLimit) || errors.Is(err, recording.ErrVersion) ||
		errors.Is(err, errOutExists) {
		return cli.BadInput(fmt.Errorf("import: %w", err))
	}
	return fmt.Errorf("import: %w", err)
}

// importerFunc is the shape shared by har.Import and gor.Import.
type importerFunc func(ctx context.Context, r io.Reader, name string, newSink importers.NewSinkFunc, opts ...importers.Option) (importers.Stats, error)

var importersByFormat = map[string]importerFunc{
	FormatHAR: har.Import,
	FormatGor: gor.Import,
}

func importOther(ctx context.Context, opts *Options, in io.Reader, name string, out *output) (string, error) {
	var iopts []importers.Option
	if opts.SessionChain != "" {
		chain, err := session.Parse(opts.SessionChain)
		if err != nil {
			return "", cli.BadInput(fmt.Errorf("--session-chain: %w", err))
		}
		iopts = append(iopts, importers.WithSessions(chain))
	}
	policy := redact.DefaultPolicy()
	policy.Headers = append(policy.Headers, opts.RedactHeaders...)
	policy.QueryParams = append(policy.QueryParams, opts.RedactQuery...)
	policy.JSONFields = append(policy.JSONFields, opts.RedactFields...)
	red, err := redact.New(policy)
	if err != nil {
		return "", cli.BadInput(fmt.Errorf("--redact-*: %w", err))
	}
	iopts = append(iopts, importers.WithRedactor(red), importers.SkipInvalid(opts.SkipInvalid))

	stats, err := importersByFormat[opts.Format](ctx, in, name, out.newSink, iopts...)
	if err != nil {
		return "", err
	}
	for _, e := range stats.Errors {
		fmt.Fprintf(opts.IO.ErrOut, "reprise import: skipped: %v\n", e)
	}
	if stats.Skipped > int64(len(stats.Errors)) {
		fmt.Fprintf(opts.IO.ErrOut, "reprise import: skipped: %d more\n", stats.Skipped-int64(len(stats.Errors)))
	}
	return stats.String(), nil
}
