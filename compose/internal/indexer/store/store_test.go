package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/indexer/store/pgtest"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// opener gives each conformance case a fresh, empty store URL.
type opener func(t *testing.T) string

func sqliteURL(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "indexer.db") }

func TestSQLiteConformance(t *testing.T) { runConformance(t, sqliteURL) }

func TestPostgresConformance(t *testing.T) {
	srv := pgtest.New(t)
	runConformance(t, func(t *testing.T) string { return srv.DB(t) })
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, url string, opts ...Option) *DB {
	t.Helper()
	d, err := Open(testCtx(t), url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// chain builds consecutive blocks from the given transactions, one block
// per argument, hashes chaining from the genesis.
type chain struct{ blocks []*pb.Block }

func (c *chain) next(txs ...*pb.Tx) *pb.Block {
	b := &pb.Block{Number: uint64(len(c.blocks) + 1), ParentHash: "0xgenesis", ProducedUnixNano: int64(1000 + len(c.blocks)), Txs: txs}
	if len(c.blocks) > 0 {
		b.ParentHash = c.blocks[len(c.blocks)-1].Hash
	}
	b.Hash = fmt.Sprintf("0xblock%d", b.Number)
	c.blocks = append(c.blocks, b)
	return b
}

var txSeq int

func buyTx(buyer string, item, price int64) *pb.Tx {
	txSeq++
	return &pb.Tx{Hash: fmt.Sprintf("0xtx%d", txSeq), Kind: "buy", Player: buyer, ItemId: item, Amount: price, To: buyer, SubmittedUnixNano: int64(txSeq)}
}

func missionTx(player, mission string, step int32) *pb.Tx {
	txSeq++
	return &pb.Tx{Hash: fmt.Sprintf("0xtx%d", txSeq), Kind: "mission", Player: player, Mission: mission, Step: step, SubmittedUnixNano: int64(txSeq)}
}

func itemIDs(items []*pb.Item) []int64 {
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.Id)
	}
	return ids
}

func hashes(txs []*pb.Tx) []string {
	var hs []string
	for _, t := range txs {
		hs = append(hs, t.Hash)
	}
	return hs
}

func runConformance(t *testing.T, fresh opener) {
	t.Run("EmptyStore", func(t *testing.T) {
		d := open(t, fresh(t))
		ctx := testCtx(t)
		h, err := d.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, Head{}, h)
		items, err := d.Inventory(ctx, "nobody")
		require.NoError(t, err)
		assert.Empty(t, items)
		txs, err := d.History(ctx, "nobody", 10)
		require.NoError(t, err)
		assert.Empty(t, txs)
		require.NoError(t, d.Ping(ctx))
	})

	t.Run("ApplyBlocksInventoryHistoryHead", func(t *testing.T) {
		d := open(t, fresh(t))
		ctx := testCtx(t)
		var c chain
		a1, a2 := buyTx("alice", 1, 10), buyTx("alice", 2, 20)
		b1 := buyTx("bob", 3, 30)
		m1 := missionTx("alice", "m1", 1)
		require.NoError(t, d.ApplyBlock(ctx, c.next(a1, a2, b1)))
		require.NoError(t, d.ApplyBlock(ctx, c.next()))
		// Bob buys item 1 from alice: ownership moves.
		b2 := buyTx("bob", 1, 15)
		b2.From = "alice"
		require.NoError(t, d.ApplyBlock(ctx, c.next(m1, b2)))

		h, err := d.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, Head{Number: 3, Hash: "0xblock3", ProducedUnixNano: 1002}, h)

		alice, err := d.Inventory(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, []int64{2}, itemIDs(alice))
		bob, err := d.Inventory(ctx, "bob")
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 3}, itemIDs(bob))
		assert.Equal(t, int64(15), bob[0].Price, "price is what the owner paid")
		assert.Equal(t, "bob", bob[0].Owner)

		hist, err := d.History(ctx, "alice", 10)
		require.NoError(t, err)
		assert.Equal(t, []string{m1.Hash, a2.Hash, a1.Hash}, hashes(hist), "newest first, in chain order")
		assert.Equal(t, "m1", hist[0].Mission)
		assert.Equal(t, int32(1), hist[0].Step)
		assert.Equal(t, a2.SubmittedUnixNano, hist[1].SubmittedUnixNano)
		limited, err := d.History(ctx, "alice", 2)
		require.NoError(t, err)
		assert.Equal(t, []string{m1.Hash, a2.Hash}, hashes(limited))
		bobHist, err := d.History(ctx, "bob", 10)
		require.NoError(t, err)
		require.Len(t, bobHist, 2)
		assert.Equal(t, "alice", bobHist[0].From)
	})

	t.Run("RejectsDuplicatesGapsAndForeignParents", func(t *testing.T) {
		d := open(t, fresh(t))
		ctx := testCtx(t)
		var c chain
		b1, b2 := c.next(buyTx("a", 1, 1)), c.next(buyTx("a", 2, 1))
		b3 := c.next(buyTx("a", 3, 1))
		require.NoError(t, d.ApplyBlock(ctx, b1))
		require.NoError(t, d.ApplyBlock(ctx, b2))
		assert.ErrorIs(t, d.ApplyBlock(ctx, b2), ErrDuplicateBlock)
		assert.ErrorIs(t, d.ApplyBlock(ctx, b1), ErrDuplicateBlock)
		gap := c.next()
		assert.ErrorIs(t, d.ApplyBlock(ctx, gap), ErrBlockGap)
		foreign := &pb.Block{Number: 3, Hash: "0xother", ParentHash: "0xnot-block2"}
		err := d.ApplyBlock(ctx, foreign)
		assert.ErrorIs(t, err, ErrParentMismatch)
		assert.ErrorContains(t, err, "block 3")
		require.NoError(t, d.ApplyBlock(ctx, b3))
		items, err := d.Inventory(ctx, "a")
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 2, 3}, itemIDs(items), "rejected blocks left nothing behind")
	})

	t.Run("ResetEmptiesTheStoreForANewChain", func(t *testing.T) {
		d := open(t, fresh(t))
		ctx := testCtx(t)
		var old chain
		reused := buyTx("a", 1, 1)
		for _, tx := range []*pb.Tx{reused, buyTx("a", 2, 1), missionTx("a", "m", 1)} {
			require.NoError(t, d.ApplyBlock(ctx, old.next(tx)))
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		require.Error(t, d.Reset(cancelled))
		h, err := d.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(3), h.Number, "a failed reset changes nothing")

		require.NoError(t, d.Reset(ctx))
		h, err = d.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, Head{}, h)
		items, err := d.Inventory(ctx, "a")
		require.NoError(t, err)
		assert.Empty(t, items)
		hist, err := d.History(ctx, "a", 10)
		require.NoError(t, err)
		assert.Empty(t, hist)
		// A new chain, from any block, even one reusing a tx hash.
		b := &pb.Block{Number: 7, Hash: "0xnew7", ParentHash: "0xnew6", Txs: []*pb.Tx{{Hash: reused.Hash, Kind: "buy", Player: "b", ItemId: 1, To: "b"}}}
		require.NoError(t, d.ApplyBlock(ctx, b))
		items, err = d.Inventory(ctx, "b")
		require.NoError(t, err)
		assert.Equal(t, []int64{1}, itemIDs(items))
	})

	t.Run("ABlockIsAllOrNothing", func(t *testing.T) {
		d := open(t, fresh(t))
		ctx := testCtx(t)
		var c chain
		first := buyTx("a", 1, 1)
		require.NoError(t, d.ApplyBlock(ctx, c.next(first)))
		// The second block repeats a tx hash: its insert fails after the
		// block row and a buy went in, and all of it must roll back.
		dup := buyTx("b", 2, 1)
		bad := c.next(dup, &pb.Tx{Hash: first.Hash, Kind: "buy", Player: "b", ItemId: 1, To: "b"})
		require.Error(t, d.ApplyBlock(ctx, bad))
		h, err := d.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), h.Number)
		items, err := d.Inventory(ctx, "b")
		require.NoError(t, err)
		assert.Empty(t, items)
		hist, err := d.History(ctx, "b", 10)
		require.NoError(t, err)
		assert.Empty(t, hist)
	})

	t.Run("BigBlocksAndReopen", func(t *testing.T) {
		url := fresh(t)
		d := open(t, url)
		ctx := testCtx(t)
		var c chain
		var txs []*pb.Tx
		for i := range 2*txBatch + 7 {
			txs = append(txs, buyTx(fmt.Sprintf("p%d", i%5), int64(i+1), 1))
		}
		require.NoError(t, d.ApplyBlock(ctx, c.next(txs...)))
		require.NoError(t, d.Close())
		// Reopening runs the migrations again: they must be idempotent.
		d2 := open(t, url)
		h, err := d2.Head(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), h.Number)
		hist, err := d2.History(ctx, "p3", 1000)
		require.NoError(t, err)
		assert.Len(t, hist, (2*txBatch+7)/5)
	})

	t.Run("SlowQueryFaultDefeatsTheIndex", func(t *testing.T) {
		url := fresh(t)
		fast := open(t, url)
		slow := open(t, url, SlowHistory(true))
		ctx := testCtx(t)
		var c chain
		const players, blocks, perBlock = 200, 20, 250
		for range blocks {
			var txs []*pb.Tx
			for i := range perBlock {
				txs = append(txs, missionTx(fmt.Sprintf("player%d", (len(c.blocks)*perBlock+i)%players), "m", 1))
			}
			require.NoError(t, fast.ApplyBlock(ctx, c.next(txs...)))
		}
		if fast.Dialect() == Postgres {
			_, err := fast.db.ExecContext(ctx, "ANALYZE")
			require.NoError(t, err)
		}
		fastPlan, err := fast.ExplainHistory(ctx, "player7", 20)
		require.NoError(t, err)
		slowPlan, err := slow.ExplainHistory(ctx, "player7", 20)
		require.NoError(t, err)
		t.Logf("%s plan without fault:\n%s\nwith fault:\n%s", fast.Dialect(), fastPlan, slowPlan)
		assert.Contains(t, fastPlan, "txs_player_recent", "History uses the index")
		assert.NotContains(t, slowPlan, "txs_player_recent")
		if fast.Dialect() == SQLite {
			assert.Contains(t, slowPlan, "SCAN txs")
			assert.Contains(t, slowPlan, "USE TEMP B-TREE FOR ORDER BY", "the fault sorts the whole match")
		} else {
			assert.Contains(t, slowPlan, "Seq Scan on txs")
		}
		// Same answer either way: the fault costs time, not correctness.
		fh, err := fast.History(ctx, "player7", 20)
		require.NoError(t, err)
		sh, err := slow.History(ctx, "player7", 20)
		require.NoError(t, err)
		assert.Equal(t, hashes(fh), hashes(sh))
		assert.Len(t, fh, 20)
		t.Logf("%s History over %d txs: %v without fault, %v with (informative only)",
			fast.Dialect(), blocks*perBlock, timeHistory(ctx, fast), timeHistory(ctx, slow))
	})
}

// timeHistory is the median of a few History calls, for the log only:
// timing assertions would flake on a shared machine.
func timeHistory(ctx context.Context, d *DB) time.Duration {
	var ds []time.Duration
	for i := range 9 {
		start := time.Now()
		if _, err := d.History(ctx, fmt.Sprintf("player%d", i), 20); err != nil {
			return -1
		}
		ds = append(ds, time.Since(start))
	}
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			if ds[j] < ds[i] {
				ds[i], ds[j] = ds[j], ds[i]
			}
		}
	}
	return ds[len(ds)/2]
}

func TestParseDSN(t *testing.T) {
	d, src, err := ParseDSN("sqlite:///tmp/indexer.db")
	require.NoError(t, err)
	assert.Equal(t, SQLite, d)
	assert.Contains(t, src, "file:/tmp/indexer.db?")
	d, src, err = ParseDSN("postgres://u:p@db:5432/idx?sslmode=disable")
	require.NoError(t, err)
	assert.Equal(t, Postgres, d)
	assert.Equal(t, "postgres://u:p@db:5432/idx?sslmode=disable", src)
	for _, bad := range []string{"", "mysql://x", "/tmp/x.db", "sqlite://", "sqlite:///x.db?mode=ro"} {
		_, _, err := ParseDSN(bad)
		assert.ErrorIs(t, err, ErrBadDSN, bad)
	}
}

func TestOpenUnreachablePostgresFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "postgres unreachable")
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite:///tmp/a.db", "postgres://u@h/db", "sqlite://", "x://", "sqlite:///a?b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		d, src, err := ParseDSN(dsn)
		if err != nil {
			return
		}
		if d != SQLite && d != Postgres {
			t.Fatalf("dialect %q", d)
		}
		if src == "" {
			t.Fatal("empty source")
		}
	})
}
