package indexer

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/indexer/store"
	"github.com/reprise-dev/reprise/compose/internal/svc"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
)

// Config is the indexer service's configuration from flags and env.
type Config struct {
	svc.Options
	DB        string
	Sequencer string
	SlowQuery bool
}

// DefaultDB is the embedded default database.
const DefaultDB = "sqlite:///tmp/indexer.db"

// ParseFlags reads the indexer's flags, with environment defaults.
func ParseFlags(args []string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet("indexer", flag.ContinueOnError)
	fs.SetOutput(out)
	common := svc.Flags(fs, true)
	var cfg Config
	fs.StringVar(&cfg.DB, "db", svc.Env("INDEXER_DB", DefaultDB), "database URL: postgres://user:pass@host:5432/db?sslmode=disable or sqlite:///path/file.db (env INDEXER_DB)")
	fs.StringVar(&cfg.Sequencer, "sequencer", svc.Env("SEQUENCER_ADDR", "sequencer:9090"), "sequencer gRPC address (env SEQUENCER_ADDR)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: indexer [flags]\n\nFollows the sequencer's blocks into a database; gRPC Indexer (Inventory, History).\nFAULT_SLOW_QUERY=1 seeds a History query that cannot use its index.\n\nExamples:\n  indexer --db sqlite:///var/lib/indexer.db --sequencer 127.0.0.1:9090\n  INDEXER_DB=postgres://postgres@db:5432/indexer?sslmode=disable indexer\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("indexer: unexpected argument %q (flags only)", fs.Arg(0))
	}
	if _, _, err := store.ParseDSN(cfg.DB); err != nil {
		return Config{}, fmt.Errorf("indexer: flag --db: %w", err)
	}
	cfg.Options = *common
	cfg.SlowQuery = svc.EnvBool("FAULT_SLOW_QUERY")
	return cfg, nil
}

// openStore retries until the database answers: in compose it may start
// after the indexer.
func openStore(ctx context.Context, s *svc.Service, cfg Config) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	wait := 250 * time.Millisecond
	for {
		actx, acancel := context.WithTimeout(ctx, 10*time.Second)
		db, err := store.Open(actx, cfg.DB, store.SlowHistory(cfg.SlowQuery))
		acancel()
		if err == nil {
			return db, nil
		}
		s.Log.Warn("database not ready", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("indexer: %w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// RunService is the indexer's main: it serves until ctx ends.
func RunService(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := ParseFlags(args, stdout)
	if err != nil {
		return err
	}
	s, err := svc.New("indexer", cfg.Options, stdout)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, s, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.SlowQuery {
		s.Log.Warn("seeded fault on", "fault", "FAULT_SLOW_QUERY")
	}
	cc, err := s.Dial(cfg.Sequencer)
	if err != nil {
		return err
	}
	ix := New(db, pb.NewSequencerClient(cc), Logger(s.Log), Registerer(s.Registry))
	ix.Register(s.GRPC)
	s.ReadyWhen(ix.Ready)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	followed := make(chan error, 1)
	go func() { followed <- ix.Follow(ctx) }()
	err = s.Run(ctx)
	cancel()
	return joinErr(err, <-followed)
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
