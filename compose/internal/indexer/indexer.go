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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrNotConnected is the readiness failure while the block stream is down.
var ErrNotConnected = errors.New("indexer: block stream not connected")

// Store is what the indexer needs of its database (store.DB on PostgreSQL
// or SQLite).
type Store interface {
	ApplyBlock(ctx context.Context, b *pb.Block) error
	Head(ctx context.Context) (store.Head, error)
	Reset(ctx context.Context) error
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

// Reasons for a reset, the indexer_chain_resets_total label.
const (
	ResetChainChanged    = "chain_changed"    // the sequencer is on another chain: it lost its state
	ResetBehindRetention = "behind_retention" // the sequencer no longer holds our next block
)

// chainChange is why the stored chain cannot be extended from the
// sequencer: retrying will never fix it.
type chainChange struct {
	reason    string
	stored    store.Head
	seqNumber uint64 // the sequencer's block that showed it
	seqHash   string // the hash it names where ours should be
	err       error
}

func (c *chainChange) Error() string { return c.err.Error() }
func (c *chainChange) Unwrap() error { return c.err }

// Follow streams blocks into the store until ctx ends, resubscribing after
// the stored head whenever the stream breaks. When the sequencer turns out
// to be on another chain (restarted without a data dir: our next block is
// beyond its head, or a block's parent is not our head) or no longer holds
// our next block (we fell behind its retained window), it empties the
// store and follows from block 1 again: the sequencer is the source of
// truth, and what it no longer has is lost to the index too.
func (ix *Indexer) Follow(ctx context.Context) error {
	wait := ix.cfg.minBackoff
	for {
		progressed, err := ix.followOnce(ctx)
		ix.setConnected(false)
		if ctx.Err() != nil {
			return nil
		}
		var change *chainChange
		if errors.As(err, &change) {
			if err = ix.reset(ctx, change); err == nil {
				progressed = true // the empty store follows at once
			}
			if ctx.Err() != nil {
				return nil
			}
		}
		if progressed {
			wait = ix.cfg.minBackoff
		}
		if err != nil {
			ix.cfg.log.Warn("block stream broken; resubscribing", "err", err, "stored", ix.stored.Load(), "retry_in", wait)
		}
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

func (ix *Indexer) reset(ctx context.Context, c *chainChange) error {
	msg := "sequencer is on another chain (restarted without its data?); resetting the index to follow it from block 1"
	if c.reason == ResetBehindRetention {
		msg = "fell behind the sequencer's retained blocks; resetting the index to follow from its oldest block (earlier history is lost)"
	}
	ix.cfg.log.Warn(msg, "reason", c.reason, "stored_head", c.stored.Number, "stored_hash", c.stored.Hash,
		"sequencer_block", c.seqNumber, "sequencer_hash", c.seqHash, "err", c.err)
	_, err := timed(ix.m, "reset", func() (struct{}, error) { return struct{}{}, ix.store.Reset(ctx) })
	if err != nil {
		return fmt.Errorf("reset after %w: %w", c, err)
	}
	ix.m.chainResets.WithLabelValues(c.reason).Inc()
	ix.chainHead.Store(0)
	ix.noteStored(store.Head{})
	return nil
}

// beyondHead turns the sequencer's FAILED_PRECONDITION (our next block is
// beyond its head) into a chainChange, with the head it sent in trailers.
func beyondHead(stream grpc.ServerStreamingClient[pb.Block], stored store.Head, err error) error {
	if status.Code(err) != codes.FailedPrecondition {
		return err
	}
	c := &chainChange{reason: ResetChainChanged, stored: stored, err: err}
	md := stream.Trailer()
	if v := md.Get(sequencer.HeadHeader); len(v) == 1 {
		c.seqNumber, _ = strconv.ParseUint(v[0], 10, 64)
	}
	if v := md.Get(sequencer.HeadHashHeader); len(v) == 1 {
		c.seqHash = v[0]
	}
	return c
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
		return false, beyondHead(stream, head, fmt.Errorf("subscribe from block %d: %w", head.Number+1, err))
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
			return progressed, beyondHead(stream, head, fmt.Errorf("stream after block %d: %w", head.Number, err))
		}
		ix.noteChainHead(b.GetNumber())
		_, err = timed(ix.m, "apply_block", func() (struct{}, error) { return struct{}{}, ix.store.ApplyBlock(ctx, b) })
		switch {
		case errors.Is(err, store.ErrDuplicateBlock):
			continue
		case errors.Is(err, store.ErrParentMismatch):
			return progressed, &chainChange{reason: ResetChainChanged, stored: head, seqNumber: b.GetNumber(), seqHash: b.GetParentHash(), err: err}
		case errors.Is(err, store.ErrBlockGap):
			return progressed, &chainChange{reason: ResetBehindRetention, stored: head, seqNumber: b.GetNumber(), seqHash: b.GetParentHash(), err: err}
		case err != nil:
			ix.m.applyErrors.Inc()
			return progressed, err
		}
		progressed = true
		ix.countRows(b)
		head = store.Head{Number: b.GetNumber(), Hash: b.GetHash(), ProducedUnixNano: b.GetProducedUnixNano()}
		ix.noteStored(head)
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
