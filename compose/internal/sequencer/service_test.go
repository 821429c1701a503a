package sequencer

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("BLOCK_INTERVAL", "50ms")
	t.Setenv("FAULT_LEAK", "1")
	cfg, err := ParseFlags([]string{"--max-block-txs", "7"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 50*time.Millisecond, cfg.BlockInterval)
	assert.Equal(t, 7, cfg.MaxBlockTxs)
	assert.Equal(t, DefaultRetain, cfg.Retain)
	assert.True(t, cfg.Leak)
	assert.Empty(t, cfg.DataDir, "in memory by default")
	t.Setenv("SEQUENCER_DATA_DIR", "/var/lib/seq")
	cfg, err = ParseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "/var/lib/seq", cfg.DataDir)
	_, err = ParseFlags([]string{"--block-interval", "0s"}, io.Discard)
	assert.ErrorContains(t, err, "flag --block-interval")
	_, err = ParseFlags([]string{"extra"}, io.Discard)
	assert.ErrorContains(t, err, "unexpected argument")
}

// The real main's wiring: it serves, and stops promptly on cancel even
// with a follower's stream open (GracefulStop alone would wait for it).
func TestRunServiceServesAndStopsWithOpenStreams(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- RunService(ctx, []string{"--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--block-interval", "5ms", "--log-level", "info"}, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var grpcAddr string
	for grpcAddr == "" && lines.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &rec))
		if rec["msg"] == "serving" {
			grpcAddr, _ = rec["grpc"].(string)
		}
	}
	require.NotEmpty(t, grpcAddr)
	go io.Copy(io.Discard, pr)

	client := dialSequencer(t, grpcAddr)
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	stream, err := client.StreamBlocks(sctx, &pb.StreamBlocksRequest{})
	require.NoError(t, err)
	b, err := stream.Recv()
	require.NoError(t, err, "blocks come on the interval, empty or not")
	assert.Equal(t, uint64(1), b.Number)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-sctx.Done():
		t.Fatal("RunService did not stop")
	}
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
	}
	assert.Equal(t, codes.Unavailable, status.Code(err), "followers are told to reconnect: %v", err)
}

// FuzzSubmitTx feeds arbitrary wire bytes, as a client could, through the
// decoder and into the chain: bad input is an error, never a panic.
func FuzzSubmitTx(f *testing.F) {
	for _, tx := range []*pb.Tx{buy("p", 1), {Kind: "mission", Player: "p", Mission: "m", Step: 3}, {}} {
		b, err := proto.Marshal(tx)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var tx pb.Tx
		if proto.Unmarshal(wire, &tx) != nil {
			return
		}
		c, err := New(BlockInterval(0), MaxBlockTxs(1))
		require.NoError(t, err)
		hash, _, err := c.Submit(context.Background(), &tx)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidTx)
			return
		}
		b := c.Seal()
		require.Len(t, b.Txs, 1)
		require.Equal(t, hash, b.Txs[0].Hash)
	})
}
