package marketplace

import (
	"context"
	"fmt"
	"io"

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
		s.ReadyWhen(svc.ConnReady("sequencer", cc))
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
