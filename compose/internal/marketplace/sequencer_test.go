package marketplace

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/reprise-dev/reprise/compose/internal/sequencer"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// TestBuyLandsInARealSequencerBlock runs against the real sequencer, with
// blocks sealed by hand so that the test does not depend on timing.
func TestBuyLandsInARealSequencerBlock(t *testing.T) {
	chain, err := sequencer.New(sequencer.BlockInterval(0))
	require.NoError(t, err)
	srv := sequencer.NewServer(chain)
	gs := grpc.NewServer()
	srv.Register(gs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); gs.Stop(); <-done })

	m := startMarketWith(t, DefaultConfig(), nil, ln.Addr().String())
	resp, err := m.client.Buy(ctxT(t), &platform.BuyRequest{Player: "ann", ItemId: 4})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetTxHash())

	block := chain.Seal()
	require.NotNil(t, block)
	require.Len(t, block.GetTxs(), 1)
	tx := block.GetTxs()[0]
	assert.Equal(t, resp.GetTxHash(), tx.GetHash())
	assert.Equal(t, "buy", tx.GetKind())
	assert.Equal(t, "ann", tx.GetTo())
	assert.Equal(t, int64(4), tx.GetItemId())
	assert.Equal(t, itemPrice(4), tx.GetAmount())
}
