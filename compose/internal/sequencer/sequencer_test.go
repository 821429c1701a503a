package sequencer

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// checkChain asserts blocks are numbered consecutively from first and
// that each names its predecessor's hash.
func checkChain(t *testing.T, blocks []*pb.Block, first uint64) {
	t.Helper()
	for i, b := range blocks {
		require.Equal(t, first+uint64(i), b.Number, "block %d", i)
		if i > 0 {
			require.Equal(t, blocks[i-1].Hash, b.ParentHash, "block %d parent", b.Number)
		} else if b.Number == 1 {
			require.Equal(t, GenesisHash, b.ParentHash)
		}
		require.NotEqual(t, b.ParentHash, b.Hash)
	}
}

func TestConcurrentSubmitsLandInExactlyOneBlockEach(t *testing.T) {
	const workers, perWorker = 8, 60
	f := startSequencer(t, BlockInterval(2*time.Millisecond), MaxBlockTxs(25))
	ctx := testCtx(t)
	stream, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: 0})
	require.NoError(t, err)

	hashes := make(chan string, workers*perWorker)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				resp, err := f.client.SubmitTx(ctx, buy(fmt.Sprintf("p%d", w), int64(i+1)))
				if !assert.NoError(t, err) {
					return
				}
				hashes <- resp.Hash
			}
		})
	}
	wg.Wait()
	close(hashes)
	want := map[string]bool{}
	for h := range hashes {
		require.Regexp(t, `^0x[0-9a-f]{64}$`, h)
		want[h] = true
	}
	require.Len(t, want, workers*perWorker, "hashes are unique")

	seen := map[string]uint64{}
	var blocks []*pb.Block
	for len(seen) < len(want) {
		b, err := stream.Recv()
		require.NoError(t, err)
		blocks = append(blocks, b)
		require.LessOrEqual(t, len(b.Txs), 25, "block %d exceeds max-block-txs", b.Number)
		for _, tx := range b.Txs {
			prev, dup := seen[tx.Hash]
			require.False(t, dup, "tx %s in blocks %d and %d", tx.Hash, prev, b.Number)
			require.True(t, want[tx.Hash], "unknown tx %s", tx.Hash)
			seen[tx.Hash] = b.Number
		}
	}
	checkChain(t, blocks, 1)
}

func TestStreamReplaysThenFollowsLiveForEverySubscriber(t *testing.T) {
	f := startSequencer(t, BlockInterval(0))
	ctx := testCtx(t)
	for i := range 5 {
		_, err := f.client.SubmitTx(ctx, buy("alice", int64(i+1)))
		require.NoError(t, err)
		f.chain.Seal()
	}

	open := func(from uint64) (grpc.ServerStreamingClient[pb.Block], uint64) {
		s, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: from})
		require.NoError(t, err)
		md, err := s.Header()
		require.NoError(t, err)
		var head uint64
		fmt.Sscan(metadata.MD(md).Get(HeadHeader)[0], &head)
		return s, head
	}
	a, headA := open(0)
	b, headB := open(3)
	assert.Equal(t, uint64(5), headA, "the header tells the head at subscription")
	assert.Equal(t, uint64(5), headB)

	recvN := func(s grpc.ServerStreamingClient[pb.Block], n int) []*pb.Block {
		var out []*pb.Block
		for range n {
			blk, err := s.Recv()
			require.NoError(t, err)
			out = append(out, blk)
		}
		return out
	}
	replayA := recvN(a, 5)
	checkChain(t, replayA, 1)
	replayB := recvN(b, 3)
	assert.Equal(t, replayA[2:], replayB, "from_block 3 replays blocks 3..5")

	// Live: blocks sealed after subscription reach both, in order.
	for i := range 3 {
		_, err := f.client.SubmitTx(ctx, buy("bob", int64(10+i)))
		require.NoError(t, err)
		f.chain.Seal()
	}
	liveA, liveB := recvN(a, 3), recvN(b, 3)
	checkChain(t, append(replayA, liveA...), 1)
	require.Len(t, liveA, 3)
	for i := range liveA {
		assert.Equal(t, liveA[i].Hash, liveB[i].Hash)
		assert.Equal(t, "bob", liveA[i].Txs[0].Player)
	}
}

func TestStreamBeyondHeadIsFailedPrecondition(t *testing.T) {
	f := startSequencer(t, BlockInterval(0))
	ctx := testCtx(t)
	f.chain.Seal()
	s, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: 2})
	require.NoError(t, err)
	s2, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: 3})
	require.NoError(t, err)
	_, err = s2.Recv()
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	head, hash := f.chain.Tip()
	assert.Equal(t, []string{"1"}, s2.Trailer().Get(HeadHeader), "the trailer says which chain this is")
	assert.Equal(t, []string{hash}, s2.Trailer().Get(HeadHashHeader))
	assert.Equal(t, uint64(1), head)
	f.chain.Seal()
	blk, err := s.Recv()
	require.NoError(t, err, "from head+1 waits for the next block")
	assert.Equal(t, uint64(2), blk.Number)
}

// A follower that reads nothing is cut off with RESOURCE_EXHAUSTED while
// production goes on; it can then resume from where it got to.
func TestSlowSubscriberIsDisconnectedWithoutStallingProduction(t *testing.T) {
	const buffer, sealed = 8, 1500
	f := startSequencer(t, BlockInterval(0), SubscriberBuffer(buffer))
	ctx := testCtx(t)
	// A fixed small window makes the transport fill up deterministically.
	slowClient := dialSequencer(t, f.svc.GRPCAddr(), grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	slow, err := slowClient.StreamBlocks(ctx, &pb.StreamBlocksRequest{})
	require.NoError(t, err)
	_, err = slow.Header()
	require.NoError(t, err)
	fast, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{})
	require.NoError(t, err)

	// Blocks are sealed at the pace of the follower that keeps up, so only
	// the one that reads nothing falls behind.
	for n := uint64(1); n <= sealed; n++ {
		require.NotNil(t, f.chain.Seal())
		b, err := fast.Recv()
		require.NoError(t, err, "a follower that keeps up is not cut off")
		require.Equal(t, n, b.Number)
	}
	require.Equal(t, uint64(sealed), f.chain.Head(), "production never waited for the slow follower")

	var last uint64
	for {
		b, err := slow.Recv()
		if err != nil {
			require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
			assert.Contains(t, status.Convert(err).Message(), fmt.Sprintf("from_block=%d", last+1))
			break
		}
		require.Equal(t, last+1, b.Number)
		last = b.Number
	}
	require.Less(t, last, uint64(sealed), "the slow follower was cut off before the end")

	// Resubscribing from the last block it got loses nothing.
	again, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{FromBlock: last + 1})
	require.NoError(t, err)
	b, err := again.Recv()
	require.NoError(t, err)
	assert.Equal(t, last+1, b.Number)
}

func TestSubmitRejectsBadTransactions(t *testing.T) {
	f := startSequencer(t, BlockInterval(0))
	ctx := testCtx(t)
	for name, tx := range map[string]*pb.Tx{
		"player":  {Kind: "buy", ItemId: 1},
		"kind":    {Kind: "mint", Player: "p"},
		"item_id": {Kind: "buy", Player: "p"},
	} {
		_, err := f.client.SubmitTx(ctx, tx)
		require.Equal(t, codes.InvalidArgument, status.Code(err), name)
		assert.Contains(t, err.Error(), name, "the error names the field")
	}
	_, err := f.client.SubmitTx(ctx, &pb.Tx{Kind: "mission", Player: "p", Mission: "m1", Step: 2})
	require.NoError(t, err)
}

func TestSameContentGetsDistinctHashes(t *testing.T) {
	c, err := New(BlockInterval(0))
	require.NoError(t, err)
	tx := buy("p", 1)
	tx.SubmittedUnixNano = 42
	h1, _, err := c.Submit(context.Background(), tx)
	require.NoError(t, err)
	h2, depth, err := c.Submit(context.Background(), tx)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h2)
	assert.Equal(t, 2, depth)
	assert.Empty(t, tx.Hash, "the caller's message is not modified")
}

func TestRetainKeepsOnlyTheLastBlocks(t *testing.T) {
	c, err := New(BlockInterval(0), Retain(4))
	require.NoError(t, err)
	for range 10 {
		c.Seal()
	}
	sub, err := c.Subscribe(1)
	require.NoError(t, err)
	defer sub.Close()
	b, err := sub.Next(context.Background())
	require.NoError(t, err)
	assert.Equal(t, uint64(7), b.Number, "pruned blocks are skipped; replay starts at the oldest kept")
	assert.Len(t, c.blocks, 4)
}

func TestMempoolFullTriggersEarlyBlockAndCapsDepth(t *testing.T) {
	c, err := New(BlockInterval(0), MaxBlockTxs(3), MaxMempool(5))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range 5 {
		_, _, err := c.Submit(ctx, buy("p", int64(i+1)))
		require.NoError(t, err)
	}
	_, _, err = c.Submit(ctx, buy("p", 9))
	require.ErrorIs(t, err, ErrMempoolFull)
	// The producer was woken by the full mempool, not by a timer.
	rctx, cancel := context.WithCancel(ctx)
	sub, err := c.Subscribe(1)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(rctx) }()
	b, err := sub.Next(ctx)
	require.NoError(t, err)
	assert.Len(t, b.Txs, 3)
	cancel()
	require.NoError(t, <-done)
	_, err = sub.Next(ctx)
	require.ErrorIs(t, err, ErrClosed, "a stopped chain ends its subscriptions")
}

func TestMetricsAreExposed(t *testing.T) {
	f := startSequencer(t, BlockInterval(0))
	ctx := testCtx(t)
	s, err := f.client.StreamBlocks(ctx, &pb.StreamBlocksRequest{})
	require.NoError(t, err)
	_, err = s.Header()
	require.NoError(t, err)
	for i := range 3 {
		_, err := f.client.SubmitTx(ctx, buy("p", int64(i+1)))
		require.NoError(t, err)
	}
	f.chain.Seal()
	f.chain.Seal()
	body := getBody(t, "http://"+f.svc.HTTPAddr()+"/metrics")
	for _, want := range []string{
		"sequencer_txs_total 3",
		"sequencer_blocks_total 2",
		"sequencer_head_block 2",
		"sequencer_mempool_depth 0",
		"sequencer_subscribers 1",
		"sequencer_inclusion_latency_seconds_count 3",
		"sequencer_block_interval_seconds_count 1",
		`grpc_server_handled_total{grpc_code="OK",grpc_method="SubmitTx"`,
	} {
		assert.Contains(t, body, want)
	}
}

func TestLeakFaultGrowsAuditLogPerTx(t *testing.T) {
	ctx := context.Background()
	for _, leak := range []bool{false, true} {
		c, err := New(BlockInterval(0), Leak(leak))
		require.NoError(t, err)
		for i := range 100 {
			_, _, err := c.Submit(ctx, buy("p", int64(i+1)))
			require.NoError(t, err)
			c.Seal()
		}
		if leak {
			assert.GreaterOrEqual(t, c.AuditBytes(), int64(100*auditPadding))
			assert.Len(t, c.audit, 100)
		} else {
			assert.Zero(t, c.AuditBytes())
		}
	}
}
