package sequencer

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/sequencer/blocklog"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// sealTxs seals one block per tx, each holding that tx.
func sealTxs(t *testing.T, c *Chain, txs ...*pb.Tx) []*pb.Block {
	t.Helper()
	var out []*pb.Block
	for _, tx := range txs {
		_, _, err := c.Submit(context.Background(), tx)
		require.NoError(t, err)
		b := c.Seal()
		require.NotNil(t, b)
		out = append(out, b)
	}
	return out
}

// follow reads n blocks from a subscription from block from.
func follow(t *testing.T, c *Chain, from uint64, n int) []*pb.Block {
	t.Helper()
	sub, err := c.Subscribe(from)
	require.NoError(t, err)
	defer sub.Close()
	var out []*pb.Block
	for range n {
		b, err := sub.Next(testCtx(t))
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func durable(t *testing.T, dir string, opts ...Option) *Chain {
	t.Helper()
	c, err := New(append([]Option{BlockInterval(0), Retain(3), DataDir(dir)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// A restarted sequencer on the same data dir continues its chain: same
// head, parents chaining across the restart, the old blocks replayed from
// the log beyond the in-memory window, and no tx hash reused.
func TestDurableChainContinuesAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	first := buy("alice", 1)
	first.SubmittedUnixNano = 42
	c1 := durable(t, dir)
	before := sealTxs(t, c1, first, buy("alice", 2), buy("bob", 3), buy("bob", 4), buy("carol", 5))
	require.NoError(t, c1.Close())

	c2 := durable(t, dir)
	r, ok := c2.Recovered()
	require.True(t, ok)
	assert.Equal(t, Recovery{Path: filepath.Join(dir, blocklog.FileName), Head: 5}, r)
	assert.Equal(t, uint64(5), c2.Head())
	again := proto.Clone(first).(*pb.Tx)
	after := sealTxs(t, c2, again, buy("dave", 7))
	assert.Equal(t, uint64(6), after[0].Number)
	assert.Equal(t, before[4].Hash, after[0].ParentHash, "the chain goes on from the last block")
	assert.NotEqual(t, before[0].Txs[0].Hash, after[0].Txs[0].Hash, "the same content gets a new hash after a restart")

	all := follow(t, c2, 0, 7)
	checkChain(t, all, 1)
	for i, b := range before {
		assert.True(t, proto.Equal(b, all[i]), "block %d replayed as sealed", b.Number)
	}
	assert.Len(t, c2.blocks, 3, "memory holds only the Retain window; the rest came from the log")
	assert.Equal(t, uint64(3), follow(t, c2, 3, 1)[0].Number)
}

func TestDurableRestartCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	c1 := durable(t, dir)
	before := sealTxs(t, c1, buy("a", 1), buy("a", 2), buy("a", 3))
	require.NoError(t, c1.Close())
	path := filepath.Join(dir, blocklog.FileName)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, st.Size()-3), "a crash mid-write of block 3")

	c2 := durable(t, dir)
	r, _ := c2.Recovered()
	assert.Equal(t, uint64(2), r.Head)
	assert.Positive(t, r.TruncatedBytes)
	b := sealTxs(t, c2, buy("b", 9))[0]
	assert.Equal(t, uint64(3), b.Number)
	assert.Equal(t, before[1].Hash, b.ParentHash)
	require.NoError(t, c2.Close())

	c3 := durable(t, dir)
	r, _ = c3.Recovered()
	assert.Equal(t, Recovery{Path: path, Head: 3}, r, "the repaired log reopens clean")
	checkChain(t, follow(t, c3, 1, 3), 1)
}

func TestCorruptDataDirFailsNamingFileAndOffset(t *testing.T) {
	dir := t.TempDir()
	c1 := durable(t, dir)
	sealTxs(t, c1, buy("a", 1), buy("a", 2), buy("a", 3))
	require.NoError(t, c1.Close())
	path := filepath.Join(dir, blocklog.FileName)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw[8+8+4] ^= 0xff // inside block 1's payload, which starts after magic and header
	require.NoError(t, os.WriteFile(path, raw, 0o644))

	_, err = New(BlockInterval(0), DataDir(dir))
	require.ErrorIs(t, err, ErrDataDir)
	require.ErrorIs(t, err, blocklog.ErrCorrupt)
	assert.Contains(t, err.Error(), path+": offset 8: record 1: checksum")

	err = RunService(context.Background(), []string{"--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--data-dir", dir}, io.Discard)
	require.ErrorIs(t, err, blocklog.ErrCorrupt, "the service refuses to start on it")
}

// A block that cannot be persisted is not published and stops production.
func TestLogFailureStopsProduction(t *testing.T) {
	c := durable(t, t.TempDir(), BlockInterval(time.Millisecond))
	sealTxs(t, c, buy("a", 1))
	sub, err := c.Subscribe(2)
	require.NoError(t, err)
	defer sub.Close()
	require.NoError(t, c.log.Close()) // the disk goes away under the chain
	_, _, err = c.Submit(context.Background(), buy("a", 2))
	require.NoError(t, err)
	_, err = c.seal()
	require.ErrorIs(t, err, blocklog.ErrClosed)
	assert.Equal(t, uint64(1), c.Head(), "nothing published")
	assert.Equal(t, 1, c.mempoolDepth(), "the tx waits in the mempool")
	require.ErrorIs(t, c.Run(testCtx(t)), blocklog.ErrClosed)
	_, err = sub.Next(testCtx(t))
	require.ErrorIs(t, err, ErrClosed)
}
