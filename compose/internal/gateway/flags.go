package gateway

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/compose/internal/svc"
)

// Flags is the gateway binary's configuration from flags and env.
type Flags struct {
	svc.Options
	Config
}

// ParseFlags reads the flags, with environment defaults; the seeded fault
// comes from FAULT_PANIC only.
func ParseFlags(args []string, out io.Writer) (Flags, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	common := svc.Flags(fs, false)
	f := Flags{Config: DefaultConfig()}
	fs.StringVar(&f.Marketplace, "marketplace", svc.Env("MARKETPLACE_ADDR", f.Marketplace), "marketplace gRPC address (env MARKETPLACE_ADDR)")
	fs.StringVar(&f.Missions, "missions", svc.Env("MISSIONS_ADDR", f.Missions), "missions gRPC address (env MISSIONS_ADDR)")
	fs.StringVar(&f.Indexer, "indexer", svc.Env("INDEXER_ADDR", f.Indexer), "indexer gRPC address (env INDEXER_ADDR)")
	fs.DurationVar(&f.BackendTimeout, "backend-timeout", svc.EnvDuration("BACKEND_TIMEOUT", DefaultBackendTimeout), "timeout of each backend call; past it the API answers 504 (env BACKEND_TIMEOUT)")
	fs.DurationVar(&f.TokenTTL, "token-ttl", svc.EnvDuration("TOKEN_TTL", DefaultTokenTTL), "lifetime of a login token (env TOKEN_TTL)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gateway [flags]\n\nThe stack's HTTP/JSON API for game clients, over the gRPC backends.\nFAULT_PANIC=1 seeds a panic on POST /v1/items/{id}/buy when id is a multiple of %d (answered 500, the process survives).\n\nExample:\n  MARKETPLACE_ADDR=127.0.0.1:9092 MISSIONS_ADDR=127.0.0.1:9093 INDEXER_ADDR=127.0.0.1:9094 gateway --http :8080\n\nFlags:\n", PanicDivisor)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Flags{}, err
	}
	if fs.NArg() > 0 {
		return Flags{}, fmt.Errorf("gateway: unexpected argument %q (flags only)", fs.Arg(0))
	}
	if err := f.Config.Validate(); err != nil {
		return Flags{}, fmt.Errorf("gateway: bad flag: %w", err)
	}
	f.Options = *common
	f.FaultPanic = svc.EnvBool("FAULT_PANIC")
	return f, nil
}

// RunService is the gateway's main: it serves until ctx ends.
func RunService(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := ParseFlags(args, stdout)
	if err != nil {
		return err
	}
	s, err := NewService(f.Options, f.Config, stdout)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
