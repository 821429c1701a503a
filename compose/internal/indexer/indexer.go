package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/reprise-dev/reprise/compose/internal/indexer/store"
	"github.com/reprise-dev/reprise/compose/internal/sequencer"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"google.golang.org/grpc"
)

// ErrNotConnected is the readiness failure while the block stream is down.
var ErrNotConnected = errors.New("indexer: block stream not connected")

// Store is what the indexer needs of its database (store.DB on PostgreSQL
// or SQLite).
type Store interface {
	ApplyBlock(ctx context.Context, b *pb.Block) error
	Head(ctx context.Context) (store.Head, error)
	Inventory(ctx context.Context, player string) ([]*pb.Item, error)
	History(ctx context.Context, player string, limit int) ([]*pb.Tx, error)
	Ping(ctx context.Context) error
}

// Defaults for the reconnect backoff.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
)

type config struct {
	log        *slog.Logger
	reg        prometheus.Registerer
	minBackoff time.Duration
	maxBackoff time.Duration
}

// Option configures an Indexer.
type Option func(*config)

// Logger is where the follower reports stream breaks.
func Logger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// Registerer is where the indexer's metrics go; by default a private registry.
func Registerer(r prometheus.Registerer) Option { return func(c *config) { c.reg = r } }

// Backoff bounds the wait between resubscriptions; it doubles from min to
// max while the stream keeps failing without progress.
func Backoff(minWait, maxWait time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = minWait, maxWait }
}

// Indexer follows a sequencer into a Store and serves gRPC Indexer.
type Indexer struct {
	pb.UnimplementedIndexerServer
	store Store
	seq   pb.SequencerClient
	cfg   config
	m     *metrics

	connected      atomic.Bool
	chainHead      atomic.Uint64
	stored         atomic.Uint64
	storedProduced atomic.Int64

	mu      sync.Mutex
	applied chan struct{} // closed and replaced whenever the stored head moves
}

// New builds an indexer; Follow runs its follower.
func New(st Store, seq pb.SequencerClient, opts ...Option) *Indexer {
	cfg := config{log: slog.New(slog.DiscardHandler), reg: prometheus.NewRegistry(),
		minBackoff: DefaultMinBackoff, maxBackoff: DefaultMaxBackoff}
	for _, o := range opts {
		o(&cfg)
	}
	ix := &Indexer{store: st, seq: seq, cfg: cfg, applied: make(chan struct{})}
	ix.m = newMetrics(cfg.reg, ix.headAge)
	return ix
}

func (ix *Indexer) headAge() float64 {
	p := ix.storedProduced.Load()
	if p == 0 {
		return 0
	}
	return max(0, time.Since(time.Unix(0, p)).Seconds())
}

// Ready is the readiness check: the database answers and the stream is open.
func (ix *Indexer) Ready(ctx context.Context) error {
	if err := ix.store.Ping(ctx); err != nil {
		return err
	}
	if !ix.connected.Load() {
		return ErrNotConnected
	}
	return nil
}

// Stored is the number of the newest stored block known to the follower.
func (ix *Indexer) Stored() uint64 { return ix.stored.Load() }

// WaitForBlock returns once block n is stored, or when ctx ends.
func (ix *Indexer) WaitForBlock(ctx context.Context, n uint64) error {
	for {
		ix.mu.Lock()
		ch := ix.applied
		ix.mu.Unlock()
		if ix.stored.Load() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("indexer: waiting for block %d (stored %d): %w", n, ix.stored.Load(), ctx.Err())
		}
	}
}

func (ix *Indexer) noteStored(h store.Head) {
	ix.stored.Store(h.Number)
	ix.storedProduced.Store(h.ProducedUnixNano)
	ix.noteChainHead(h.Number)
	ix.mu.Lock()
	close(ix.applied)
	ix.applied = make(chan struct{})
	ix.mu.Unlock()
}

func (ix *Indexer) noteChainHead(n uint64) {
	for {
		cur := ix.chainHead.Load()
		if n <= cur || ix.chainHead.CompareAndSwap(cur, n) {
			break
		}
	}
	ix.m.lagBlocks.Set(float64(ix.chainHead.Load() - min(ix.chainHead.Load(), ix.stored.Load())))
}

func (ix *Indexer) setConnected(on bool) {
	ix.connected.Store(on)
	if on {
		ix.m.connected.Set(1)
	} else {
		ix.m.connected.Set(0)
	}
}

// timed runs one store call under the query duration histogram.
func timed[T any](m *metrics, query string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	m.queryDuration.WithLabelValues(query).Observe(time.Since(start).Seconds())
	return v, err
}

// Follow streams blocks into the store until ctx ends, resubscribing after
// the stored head whenever the stream breaks.
func (ix *Indexer) Follow(ctx context.Context) error {
	wait := ix.cfg.minBackoff
	for {
		progressed, err := ix.followOnce(ctx)
		ix.setConnected(false)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			wait = ix.cfg.minBackoff
		}
		level := slog.LevelWarn
		if errors.Is(err, store.ErrBlockGap) || errors.Is(err, store.ErrParentMismatch) {
			// The sequencer no longer has the chain we stored: retrying will
			// not fix it, but neither will dropping data; say so loudly.
			level = slog.LevelError
		}
		ix.cfg.log.Log(ctx, level, "block stream broken; resubscribing", "err", err, "stored", ix.stored.Load(), "retry_in", wait)
		ix.m.reconnects.Inc()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, ix.cfg.maxBackoff)
	}
}

func (ix *Indexer) followOnce(ctx context.Context) (progressed bool, err error) {
	head, err := timed(ix.m, "head", func() (store.Head, error) { return ix.store.Head(ctx) })
	if err != nil {
		return false, err
	}
	ix.noteStored(head)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// WaitForReady: while the sequencer is away, wait for the channel to
	// reconnect rather than spin on UNAVAILABLE.
	stream, err := ix.seq.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: head.Number + 1}, grpc.WaitForReady(true))
	if err != nil {
		return false, fmt.Errorf("subscribe from block %d: %w", head.Number+1, err)
	}
	md, err := stream.Header()
	if err != nil {
		return false, fmt.Errorf("subscribe from block %d: %w", head.Number+1, err)
	}
	if v := md.Get(sequencer.HeadHeader); len(v) == 1 {
		if n, err := strconv.ParseUint(v[0], 10, 64); err == nil {
			ix.noteChainHead(n)
		}
	}
	ix.setConnected(true)
	for {
		b, err := stream.Recv()
		if err != nil {
			return progressed, fmt.Errorf("stream after block %d: %w", ix.stored.Load(), err)
		}
		ix.noteChainHead(b.GetNumber())
		_, err = timed(ix.m, "apply_block", func() (struct{}, error) { return struct{}{}, ix.store.ApplyBlock(ctx, b) })
		if errors.Is(err, store.ErrDuplicateBlock) {
			continue
		}
		if err != nil {
			ix.m.applyErrors.Inc()
			return progressed, err
		}
		progressed = true
		ix.countRows(b)
		ix.noteStored(store.Head{Number: b.GetNumber(), Hash: b.GetHash(), ProducedUnixNano: b.GetProducedUnixNano()})
	}
}

func (ix *Indexer) countRows(b *pb.Block) {
	ix.m.blocks.Inc()
	ix.m.rows.WithLabelValues("blocks").Inc()
	ix.m.rows.WithLabelValues("txs").Add(float64(len(b.GetTxs())))
	var buys int
	for _, t := range b.GetTxs() {
		if t.GetKind() == "buy" {
			buys++
		}
	}
	ix.m.rows.WithLabelValues("items").Add(float64(buys))
}
