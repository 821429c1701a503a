package marketplace

import (
	"context"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// NewService wires a marketplace into a stack service: the gRPC server, its
// metrics, and readiness once the sequencer at sequencerAddr answers. An
// empty sequencerAddr runs without a sequencer (buys carry no tx hash).
func NewService(o svc.Options, cfg Config, sequencerAddr string, logOut io.Writer) (_ *svc.Service, _ *Server, err error) {
	s, err := svc.New("marketplace", o, logOut)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			// Closes the sequencer connection dialled before the failure.
			_ = s.Shutdown(context.Background())
		}
	}()
	if s.GRPC == nil {
		return nil, nil, fmt.Errorf("marketplace: --grpc: an address is required")
	}
	var seq Submitter
	if sequencerAddr != "" {
		cc, err := s.Dial(sequencerAddr)
		if err != nil {
			return nil, nil, err
		}
		seq = platform.NewSequencerClient(cc)
		s.ReadyWhen(connReady("sequencer", cc))
	}
	m, err := New(cfg, seq, s.Log)
	if err != nil {
		return nil, nil, err
	}
	if err := m.Register(s.Registry); err != nil {
		return nil, nil, fmt.Errorf("marketplace: metrics: %w", err)
	}
	platform.RegisterMarketplaceServer(s.GRPC, m)
	if cfg.FaultBuyRace {
		s.Log.Warn("seeded fault on", "fault", "FAULT_BUY_RACE")
	}
	return s, m, nil
}

// connReady is a readiness check that passes once the connection to a
// dependency is established; a service without a cheap read-only RPC (the
// sequencer) is judged by its transport answering.
func connReady(name string, cc *grpc.ClientConn) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			state := cc.GetState()
			switch state {
			case connectivity.Ready:
				return nil
			case connectivity.Idle:
				cc.Connect()
			case connectivity.TransientFailure, connectivity.Shutdown:
				return fmt.Errorf("%s at %s: %s", name, cc.Target(), state)
			}
			if !cc.WaitForStateChange(ctx, state) {
				return fmt.Errorf("%s at %s: %s: %w", name, cc.Target(), state, ctx.Err())
			}
		}
	}
}
