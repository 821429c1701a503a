package sequencer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/svc"
)

// Config is the sequencer service's configuration from flags and env.
type Config struct {
	svc.Options
	BlockInterval    time.Duration
	MaxBlockTxs      int
	Retain           int
	SubscriberBuffer int
	Leak             bool
	DataDir          string
}

// ParseFlags reads the sequencer's flags, with environment defaults.
func ParseFlags(args []string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet("sequencer", flag.ContinueOnError)
	fs.SetOutput(out)
	common := svc.Flags(fs, true)
	var cfg Config
	fs.DurationVar(&cfg.BlockInterval, "block-interval", svc.EnvDuration("BLOCK_INTERVAL", DefaultBlockInterval), "how often to seal a block (env BLOCK_INTERVAL)")
	fs.IntVar(&cfg.MaxBlockTxs, "max-block-txs", envInt("MAX_BLOCK_TXS", DefaultMaxBlockTxs), "seal early when the mempool holds this many txs (env MAX_BLOCK_TXS)")
	fs.IntVar(&cfg.Retain, "retain-blocks", envInt("RETAIN_BLOCKS", DefaultRetain), "recent blocks kept for replay (env RETAIN_BLOCKS)")
	fs.IntVar(&cfg.SubscriberBuffer, "subscriber-buffer", envInt("SUBSCRIBER_BUFFER", DefaultSubscriberBuffer), "blocks a follower may lag before it is cut off (env SUBSCRIBER_BUFFER)")
	fs.StringVar(&cfg.DataDir, "data-dir", svc.Env("SEQUENCER_DATA_DIR", ""), "directory for the durable block log; empty keeps the chain in memory only, so a restart begins a new chain (env SEQUENCER_DATA_DIR)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sequencer [flags]\n\nThe stack's L3 sequencer: gRPC Sequencer (SubmitTx, StreamBlocks).\nWith --data-dir every block is fsynced to DIR/blocks.log before it is\nstreamed, and a restart continues the chain found there.\nFAULT_LEAK=1 seeds a slow memory leak.\n\nExamples:\n  BLOCK_INTERVAL=100ms sequencer --grpc :9090 --http :8080\n  sequencer --data-dir /var/lib/sequencer\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("sequencer: unexpected argument %q (flags only)", fs.Arg(0))
	}
	if cfg.BlockInterval <= 0 {
		return Config{}, fmt.Errorf("sequencer: flag --block-interval: %s must be positive", cfg.BlockInterval)
	}
	cfg.Options = *common
	cfg.Leak = svc.EnvBool("FAULT_LEAK")
	return cfg, nil
}

// envInt is the integer environment variable key, or def when it is unset
// or not a number (the flag's own parsing then reports nothing, so a typo
// falls back to the default rather than failing the container).
func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

// RunService is the sequencer's main: it serves until ctx ends.
func RunService(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := ParseFlags(args, stdout)
	if err != nil {
		return err
	}
	s, err := svc.New("sequencer", cfg.Options, stdout)
	if err != nil {
		return err
	}
	chain, err := New(
		BlockInterval(cfg.BlockInterval), MaxBlockTxs(cfg.MaxBlockTxs), Retain(cfg.Retain),
		SubscriberBuffer(cfg.SubscriberBuffer), Leak(cfg.Leak), Registerer(s.Registry), DataDir(cfg.DataDir),
	)
	if errors.Is(err, ErrDataDir) {
		return err
	}
	if err != nil {
		return fmt.Errorf("invalid flag: %w", err)
	}
	defer chain.Close()
	if r, ok := chain.Recovered(); ok {
		level := slog.LevelInfo
		if r.TruncatedBytes > 0 {
			level = slog.LevelWarn // a crash cut a block short; it was never published
		}
		s.Log.Log(ctx, level, "chain loaded from data dir", "log", r.Path, "head", r.Head, "torn_tail_bytes", r.TruncatedBytes)
	}
	if cfg.Leak {
		s.Log.Warn("seeded fault on", "fault", "FAULT_LEAK")
	}
	srv := NewServer(chain)
	srv.Register(s.GRPC)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	produced := make(chan error, 1)
	go func() { produced <- chain.Run(ctx) }()
	// Streams must end before GracefulStop, which waits for them.
	stopStreams := context.AfterFunc(ctx, srv.Close)
	defer stopStreams()
	err = s.Run(ctx)
	cancel()
	return joinErr(err, <-produced)
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
