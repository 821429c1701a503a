package missions

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/compose/internal/svc"
)

// Flags is the missions binary's configuration from flags and env.
type Flags struct {
	svc.Options
	Sequencer string
	Config
}

// ParseFlags reads the flags, with environment defaults; the seeded fault
// comes from FAULT_LOST_UPDATE only.
func ParseFlags(args []string, out io.Writer) (Flags, error) {
	fs := flag.NewFlagSet("missions", flag.ContinueOnError)
	fs.SetOutput(out)
	common := svc.Flags(fs, true)
	f := Flags{Config: DefaultConfig()}
	fs.StringVar(&f.Sequencer, "sequencer", svc.Env("SEQUENCER_ADDR", "sequencer:9090"), "sequencer gRPC address for best-effort mission txs; empty sends none (env SEQUENCER_ADDR)")
	fs.DurationVar(&f.SubmitTimeout, "submit-timeout", svc.EnvDuration("SUBMIT_TIMEOUT", DefaultSubmitTimeout), "timeout of each SubmitTx (env SUBMIT_TIMEOUT)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: missions [flags]\n\nThe stack's gRPC Missions service: per-player progress, Advance.\nFAULT_LOST_UPDATE=1 seeds an unlocked read-modify-write: concurrent Advances lose steps.\n\nExample:\n  SEQUENCER_ADDR=127.0.0.1:9091 missions --grpc :9093 --http :8083\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Flags{}, err
	}
	if fs.NArg() > 0 {
		return Flags{}, fmt.Errorf("missions: unexpected argument %q (flags only)", fs.Arg(0))
	}
	if err := f.Config.Validate(); err != nil {
		return Flags{}, fmt.Errorf("missions: bad flag: %w", err)
	}
	f.Options = *common
	f.FaultLostUpdate = svc.EnvBool("FAULT_LOST_UPDATE")
	return f, nil
}

// RunService is the missions service's main: it serves until ctx ends.
func RunService(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := ParseFlags(args, stdout)
	if err != nil {
		return err
	}
	s, _, err := NewService(f.Options, f.Config, f.Sequencer, stdout)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
