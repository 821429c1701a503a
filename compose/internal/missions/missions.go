package missions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// DefaultSubmitTimeout bounds each best-effort SubmitTx.
const (
	DefaultSubmitTimeout = time.Second
	maxIDLen             = 64
)

// ErrConfig is wrapped by every Config.Validate error.
var ErrConfig = errors.New("invalid missions config")

// Config is the service's behaviour; the seeded fault is a field so that
// tests switch it on directly.
type Config struct {
	SubmitTimeout time.Duration
	// FaultLostUpdate makes Advance read the step, release the lock, do its
	// work and write step+1 blindly (FAULT_LOST_UPDATE=1).
	FaultLostUpdate bool
}

// DefaultConfig is the service as the stack runs it.
func DefaultConfig() Config { return Config{SubmitTimeout: DefaultSubmitTimeout} }

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.SubmitTimeout <= 0 {
		return fmt.Errorf("%w: submit-timeout: want > 0, got %s", ErrConfig, c.SubmitTimeout)
	}
	return nil
}

// Submitter is the part of the sequencer missions uses;
// platform.SequencerClient satisfies it.
type Submitter interface {
	SubmitTx(ctx context.Context, tx *platform.Tx, opts ...grpc.CallOption) (*platform.SubmitTxResponse, error)
}

type key struct{ player, mission string }

// Server implements platform.MissionsServer over in-memory progress.
type Server struct {
	platform.UnimplementedMissionsServer

	cfg Config
	seq Submitter
	log *slog.Logger

	advances   *prometheus.CounterVec
	txFailures prometheus.Counter

	mu    sync.Mutex
	steps map[key]int32
}

// New builds the service; seq may be nil, then no txs are submitted.
func New(cfg Config, seq Submitter, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, seq: seq, log: log,
		steps: map[key]int32{},
		advances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "missions_advances_total", Help: "Advance calls by outcome: ok or invalid.",
		}, []string{"outcome"}),
		txFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "missions_tx_submit_failures_total", Help: "Best-effort mission txs the sequencer did not take.",
		}),
	}
	s.advances.WithLabelValues("ok")
	s.advances.WithLabelValues("invalid")
	return s, nil
}

// Register adds the service's metrics to reg.
func (s *Server) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{s.advances, s.txFailures} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// GetProgress answers step 0 for a mission never advanced.
func (s *Server) GetProgress(_ context.Context, req *platform.GetProgressRequest) (*platform.Progress, error) {
	k, err := validKey(req.GetPlayer(), req.GetMission())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	step := s.steps[k]
	s.mu.Unlock()
	return &platform.Progress{Player: k.player, Mission: k.mission, Step: step}, nil
}

// Advance moves the mission one step forward and tells the sequencer.
func (s *Server) Advance(ctx context.Context, req *platform.AdvanceRequest) (*platform.Progress, error) {
	k, err := validKey(req.GetPlayer(), req.GetMission())
	if err != nil {
		s.advances.WithLabelValues("invalid").Inc()
		return nil, err
	}
	var step int32
	if s.cfg.FaultLostUpdate {
		step = s.advanceUnlocked(ctx, k)
	} else {
		s.mu.Lock()
		s.steps[k]++
		step = s.steps[k]
		s.mu.Unlock()
		s.submit(ctx, k, step)
	}
	s.advances.WithLabelValues("ok").Inc()
	return &platform.Progress{Player: k.player, Mission: k.mission, Step: step}, nil
}

// advanceUnlocked is the seeded fault FAULT_LOST_UPDATE: the step is read,
// the lock released while the tx goes out, and step+1 written without
// looking again, so concurrent Advances overwrite each other.
func (s *Server) advanceUnlocked(ctx context.Context, k key) int32 {
	s.mu.Lock()
	step := s.steps[k]
	s.mu.Unlock()
	step++
	s.submit(ctx, k, step)
	runtime.Gosched()
	s.mu.Lock()
	s.steps[k] = step
	s.mu.Unlock()
	return step
}

// submit is best effort: progress is the missions service's own truth, the
// chain only mirrors it.
func (s *Server) submit(ctx context.Context, k key, step int32) {
	if s.seq == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SubmitTimeout)
	defer cancel()
	_, err := s.seq.SubmitTx(ctx, &platform.Tx{
		Kind: "mission", Player: k.player, Mission: k.mission, Step: step,
		SubmittedUnixNano: time.Now().UnixNano(),
	})
	if err != nil {
		s.txFailures.Inc()
		s.log.Warn("mission tx not submitted", "player", k.player, "mission", k.mission, "step", step, "err", err)
	}
}

func validKey(player, mission string) (key, error) {
	switch {
	case player == "" || len(player) > maxIDLen:
		return key{}, status.Errorf(codes.InvalidArgument, "player: want 1..%d bytes, got %d", maxIDLen, len(player))
	case mission == "" || len(mission) > maxIDLen:
		return key{}, status.Errorf(codes.InvalidArgument, "mission: want 1..%d bytes, got %d", maxIDLen, len(mission))
	}
	return key{player, mission}, nil
}

var _ platform.MissionsServer = (*Server)(nil)
