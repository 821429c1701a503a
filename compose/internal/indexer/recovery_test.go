package indexer

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/reprise-dev/reprise/compose/internal/indexer/store"
	"github.com/reprise-dev/reprise/compose/internal/sequencer"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type follower struct {
	ix     *Indexer
	dbPath string
	logs   *lockedBuffer
}

// startFollower runs an indexer on SQLite following the sequencer at seq
// until the test ends. Its channel redials fast, so restarts take
// milliseconds rather than gRPC's default second.
func startFollower(t *testing.T, ctx context.Context, seq *seqAddress) *follower {
	t.Helper()
	cc := seq.dial(t,
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, MaxDelay: 200 * time.Millisecond}}))
	f := &follower{dbPath: filepath.Join(t.TempDir(), "indexer.db"), logs: &lockedBuffer{}}
	db, err := store.Open(ctx, "sqlite://"+f.dbPath)
	require.NoError(t, err)
	f.ix = New(db, pb.NewSequencerClient(cc), Backoff(10*time.Millisecond, 100*time.Millisecond),
		Logger(slog.New(slog.NewJSONHandler(f.logs, nil))))
	fctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.ix.Follow(fctx) }()
	t.Cleanup(func() { stop(); require.NoError(t, <-done); db.Close() })
	return f
}

// waitStoredHead returns once the stored head is block n with hash, waking
// on every stored block rather than polling.
func (f *follower) waitStoredHead(t *testing.T, ctx context.Context, n uint64, hash string) {
	t.Helper()
	for {
		f.ix.mu.Lock()
		ch := f.ix.applied
		f.ix.mu.Unlock()
		h, err := f.ix.store.Head(ctx)
		require.NoError(t, err)
		if h.Number == n && h.Hash == hash {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("stored head is %d %s, want %d %s; logs:\n%s", h.Number, h.Hash, n, hash, f.logs.String())
		}
	}
}

// storedHashes is the blocks table, number → hash, read from the file.
func (f *follower) storedHashes(t *testing.T, ctx context.Context) map[uint64]string {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+f.dbPath+"?mode=ro")
	require.NoError(t, err)
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT number, hash FROM blocks`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[uint64]string{}
	for rows.Next() {
		var n uint64
		var h string
		require.NoError(t, rows.Scan(&n, &h))
		out[n] = h
	}
	require.NoError(t, rows.Err())
	return out
}

func (f *follower) resets(reason string) float64 {
	return counter(f.ix.m.chainResets.WithLabelValues(reason))
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// sealBuys seals one block per item, player buying it.
func sealBuys(t *testing.T, c *sequencer.Chain, player string, items ...int64) {
	t.Helper()
	for _, it := range items {
		_, _, err := c.Submit(context.Background(), &pb.Tx{Kind: "buy", Player: player, ItemId: it, Amount: 10, To: player})
		require.NoError(t, err)
		require.NotNil(t, c.Seal())
	}
}

// chainHashes is every block of c, number → hash.
func chainHashes(t *testing.T, ctx context.Context, c *sequencer.Chain) map[uint64]string {
	t.Helper()
	sub, err := c.Subscribe(1)
	require.NoError(t, err)
	defer sub.Close()
	out := map[uint64]string{}
	for range c.Head() {
		b, err := sub.Next(ctx)
		require.NoError(t, err)
		out[b.Number] = b.Hash
	}
	return out
}

func newChain(t *testing.T, opts ...sequencer.Option) *sequencer.Chain {
	t.Helper()
	c, err := sequencer.New(append([]sequencer.Option{sequencer.BlockInterval(0)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// restart is a sequencer process restart: the service stops, the old
// chain is dropped and next serves, at a fresh port that at then names.
func restart(t *testing.T, at *seqAddress, old *seqService, oldChain, next *sequencer.Chain) *seqService {
	t.Helper()
	old.stop(t)
	require.NoError(t, oldChain.Close())
	s := startSeqService(t, next, loopback())
	at.set(s.svc.GRPCAddr())
	t.Cleanup(func() { s.stop(t) })
	return s
}

func inventory(t *testing.T, ctx context.Context, ix *Indexer, player string) int {
	t.Helper()
	resp, err := ix.Inventory(ctx, &pb.InventoryRequest{Player: player})
	require.NoError(t, err)
	return len(resp.Items)
}

// An in-memory sequencer restarted comes back on a new chain: first
// shorter than the index (our next block is beyond its head), then, after
// a second restart, longer (its block after our head names another
// parent). Each time the indexer resets and converges on its own.
func TestIndexerResetsWhenSequencerRestartsOnANewChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	chainA := newChain(t)
	seq := startSeqService(t, chainA, loopback())
	at := newSeqAddress(seq.svc.GRPCAddr())
	f := startFollower(t, ctx, at)
	sealBuys(t, chainA, "alice", 1, 2, 3, 4, 5)
	n, hashA := chainA.Tip()
	f.waitStoredHead(t, ctx, n, hashA)

	chainB := newChain(t)
	sealBuys(t, chainB, "bob", 6, 7)
	seq = restart(t, at, seq, chainA, chainB)
	n, hashB := chainB.Tip()
	f.waitStoredHead(t, ctx, n, hashB)
	assert.Equal(t, 1.0, f.resets(ResetChainChanged))
	assert.Contains(t, f.logs.String(), fmt.Sprintf(`"level":"WARN","msg":"sequencer is on another chain (restarted without its data?); resetting the index to follow it from block 1","reason":"chain_changed","stored_head":5,"stored_hash":"%s","sequencer_block":2,"sequencer_hash":"%s"`, hashA, hashB))
	assert.Equal(t, chainHashes(t, ctx, chainB), f.storedHashes(t, ctx))
	assert.Zero(t, inventory(t, ctx, f.ix, "alice"), "the lost chain's state is gone")
	assert.Equal(t, 2, inventory(t, ctx, f.ix, "bob"))

	chainC := newChain(t)
	sealBuys(t, chainC, "carol", 1, 2, 3, 4, 5)
	restart(t, at, seq, chainB, chainC)
	n, hashC := chainC.Tip()
	f.waitStoredHead(t, ctx, n, hashC)
	assert.Equal(t, 2.0, f.resets(ResetChainChanged))
	assert.Zero(t, f.resets(ResetBehindRetention))
	assert.Contains(t, f.logs.String(), fmt.Sprintf(`"stored_head":2,"stored_hash":"%s","sequencer_block":3,"sequencer_hash":"%s"`, hashB, chainHashes(t, ctx, chainC)[2]))
	assert.Equal(t, chainHashes(t, ctx, chainC), f.storedHashes(t, ctx))
	assert.Zero(t, inventory(t, ctx, f.ix, "bob"))
	assert.Equal(t, 5, inventory(t, ctx, f.ix, "carol"))
	assert.Zero(t, counter(f.ix.m.applyErrors), "never stuck on apply errors")
}

// A sequencer with a data dir restarted on it continues the chain, older
// blocks served from its log: the index resumes with no reset, no gap and
// no duplicate.
func TestIndexerResumesWithoutResetAfterDurableSequencerRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	chain := newChain(t, sequencer.Retain(2), sequencer.DataDir(dir))
	seq := startSeqService(t, chain, loopback())
	at := newSeqAddress(seq.svc.GRPCAddr())
	f := startFollower(t, ctx, at)
	sealBuys(t, chain, "alice", 1, 2, 3)
	n, hash := chain.Tip()
	f.waitStoredHead(t, ctx, n, hash)

	again := newChain(t, sequencer.Retain(2), sequencer.DataDir(dir))
	sealBuys(t, again, "bob", 4, 5, 6, 7, 8) // while no sequencer serves; 4..6 fall out of memory
	restart(t, at, seq, chain, again)
	n, hash = again.Tip()
	require.Equal(t, uint64(8), n)
	f.waitStoredHead(t, ctx, n, hash)

	stored := f.storedHashes(t, ctx)
	assert.Len(t, stored, 8, "blocks 1..8, each once")
	assert.Equal(t, chainHashes(t, ctx, again), stored, "one chain across the restart")
	assert.Zero(t, f.resets(ResetChainChanged))
	assert.Zero(t, f.resets(ResetBehindRetention))
	assert.Equal(t, 3, inventory(t, ctx, f.ix, "alice"))
	assert.Equal(t, 5, inventory(t, ctx, f.ix, "bob"))
}

// An indexer that falls behind an in-memory sequencer's retained window
// resets and follows from the oldest block still held.
func TestIndexerResetsWhenBehindTheRetainedWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	chain := newChain(t, sequencer.Retain(3))
	seq := startSeqService(t, chain, loopback())
	at := newSeqAddress(seq.svc.GRPCAddr())
	f := startFollower(t, ctx, at)
	sealBuys(t, chain, "alice", 1, 2)
	n, hash := chain.Tip()
	f.waitStoredHead(t, ctx, n, hash)

	seq.stop(t) // the stream goes down; the chain goes on without it
	sealBuys(t, chain, "bob", 3, 4, 5, 6, 7, 8)
	seq = startSeqService(t, chain, loopback())
	at.set(seq.svc.GRPCAddr())
	defer seq.stop(t)
	n, hash = chain.Tip()
	f.waitStoredHead(t, ctx, n, hash)

	assert.Equal(t, 1.0, f.resets(ResetBehindRetention))
	assert.Zero(t, f.resets(ResetChainChanged))
	stored := f.storedHashes(t, ctx)
	assert.Len(t, stored, 3, "only the retained blocks 6..8")
	assert.Contains(t, stored, uint64(6))
	assert.Zero(t, inventory(t, ctx, f.ix, "alice"), "history before the window is lost")
	assert.Equal(t, 3, inventory(t, ctx, f.ix, "bob"))
	assert.Contains(t, f.logs.String(), "fell behind the sequencer's retained blocks")
}
