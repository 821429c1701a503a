package missions

import (
	"context"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// NewService wires the missions service into a stack service: the gRPC
// server, its metrics and, when sequencerAddr is set, the best-effort tx
// client and readiness once the sequencer answers.
func NewService(o svc.Options, cfg Config, sequencerAddr string, logOut io.Writer) (_ *svc.Service, _ *Server, err error) {
	s, err := svc.New("missions", o, logOut)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			_ = s.Shutdown(context.Background())
		}
	}()
	if s.GRPC == nil {
		return nil, nil, fmt.Errorf("missions: --grpc: an address is required")
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
		return nil, nil, fmt.Errorf("missions: metrics: %w", err)
	}
	platform.RegisterMissionsServer(s.GRPC, m)
	if cfg.FaultLostUpdate {
		s.Log.Warn("seeded fault on", "fault", "FAULT_LOST_UPDATE")
	}
	return s, m, nil
}
