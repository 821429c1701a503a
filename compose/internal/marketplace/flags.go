package marketplace

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/reprise-dev/reprise/compose/internal/svc"
)

// Flags is the marketplace binary's configuration from flags and env.
type Flags struct {
	svc.Options
	Sequencer string
	Config
}

// ParseFlags reads the flags, with environment defaults; the seeded fault
// comes from FAULT_BUY_RACE only.
func ParseFlags(args []string, out io.Writer) (Flags, error) {
	fs := flag.NewFlagSet("marketplace", flag.ContinueOnError)
	fs.SetOutput(out)
	common := svc.Flags(fs, true)
	f := Flags{Config: DefaultConfig()}
	fs.StringVar(&f.Sequencer, "sequencer", svc.Env("SEQUENCER_ADDR", "sequencer:9090"), "sequencer gRPC address; empty runs without one (env SEQUENCER_ADDR)")
	fs.IntVar(&f.Items, "items", envInt("ITEMS", DefaultItems), "size of the seeded catalogue (env ITEMS)")
	fs.Int64Var(&f.StartBalance, "start-balance", int64(envInt("START_BALANCE", DefaultStartBalance)), "balance of a new player (env START_BALANCE)")
	fs.DurationVar(&f.SubmitTimeout, "submit-timeout", svc.EnvDuration("SUBMIT_TIMEOUT", DefaultSubmitTimeout), "timeout of each SubmitTx (env SUBMIT_TIMEOUT)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: marketplace [flags]\n\nThe stack's gRPC Marketplace: items, balances, Buy (submits a \"buy\" tx to the sequencer).\nFAULT_BUY_RACE=1 seeds a check-then-act race: an item can be sold twice, a balance can go negative.\n\nExample:\n  SEQUENCER_ADDR=127.0.0.1:9091 marketplace --grpc :9092 --http :8082 --items 100\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Flags{}, err
	}
	if fs.NArg() > 0 {
		return Flags{}, fmt.Errorf("marketplace: unexpected argument %q (flags only)", fs.Arg(0))
	}
	if err := f.Config.Validate(); err != nil {
		return Flags{}, fmt.Errorf("marketplace: bad flag: %w", err)
	}
	f.Options = *common
	f.FaultBuyRace = svc.EnvBool("FAULT_BUY_RACE")
	return f, nil
}

// envInt is the integer environment variable key, or def when it is unset
// or not a number.
func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

// RunService is the marketplace's main: it serves until ctx ends.
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
