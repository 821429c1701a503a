package marketplace

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

func TestGetOrderReturnsTheCommittedBuy(t *testing.T) {
	m := startMarket(t, DefaultConfig())
	ctx := ctxT(t)
	buy, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 7})
	require.NoError(t, err)

	o, err := m.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: buy.GetOrderId()})
	require.NoError(t, err)
	assert.Equal(t, buy.GetOrderId(), o.GetOrderId())
	assert.Equal(t, "ann", o.GetPlayer())
	assert.Equal(t, int64(7), o.GetItemId())
	assert.Equal(t, itemPrice(7), o.GetPrice())
	assert.Equal(t, buy.GetBalance(), o.GetBalanceAfter())
	assert.Equal(t, buy.GetTxHash(), o.GetTxHash(), "the tx hash is kept once the sequencer took it")
	assert.NotZero(t, o.GetCreatedUnixNano())

	second, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "bob", ItemId: 8})
	require.NoError(t, err)
	assert.NotEqual(t, buy.GetOrderId(), second.GetOrderId())
	o2, err := m.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: second.GetOrderId()})
	require.NoError(t, err)
	assert.Equal(t, "bob", o2.GetPlayer(), "GetOrder answers for any buyer; the gateway restricts who sees it")
}

func TestGetOrderRefusals(t *testing.T) {
	m := startMarket(t, DefaultConfig())
	ctx := ctxT(t)
	buy, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 1})
	require.NoError(t, err)
	tag, seq, ok := strings.Cut(strings.TrimPrefix(buy.GetOrderId(), "ord-"), "-")
	require.True(t, ok, buy.GetOrderId())

	for _, id := range []string{
		"ord-" + tag + "-000002", // the next id, not issued yet
		"ord-00000000-" + seq,    // the right number under another process's tag
		"ord-000001",             // the old, untagged form
		"no-such-order",
	} {
		_, err := m.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: id})
		assert.Equal(t, codes.NotFound, status.Code(err), id)
	}
	for _, id := range []string{"", strings.Repeat("x", maxOrderIDLen+1)} {
		_, err := m.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: id})
		assert.Equal(t, codes.InvalidArgument, status.Code(err), "len %d", len(id))
	}
}

// TestOrderIDsDifferAcrossProcesses: two marketplaces issue different ids
// for the same first buy, so an id recorded against one stack is unknown to
// the next, and a replay must take its ids from live responses.
func TestOrderIDsDifferAcrossProcesses(t *testing.T) {
	a, b := startMarket(t, DefaultConfig()), startMarket(t, DefaultConfig())
	ctx := ctxT(t)
	ba, err := a.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 2})
	require.NoError(t, err)
	bb, err := b.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 2})
	require.NoError(t, err)
	assert.NotEqual(t, ba.GetOrderId(), bb.GetOrderId())
	_, err = b.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: ba.GetOrderId()})
	assert.Equal(t, codes.NotFound, status.Code(err), "a's order is unknown to b")
}

// TestGetOrderUnderBuyRace: with FAULT_BUY_RACE an item can be sold twice;
// each winner still gets an order of its own that GetOrder finds, so the
// fault shows up as two orders for one item, not as missing orders.
func TestGetOrderUnderBuyRace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FaultBuyRace = true
	m := startMarket(t, cfg)
	ctx := ctxT(t)
	const buyers = 8
	var doubled bool
	for item := int64(1); item <= 20 && !doubled; item++ {
		orders := make([]string, buyers)
		burst(buyers, func(i int) error {
			resp, err := m.client.Buy(ctx, &platform.BuyRequest{Player: playerName(item, i), ItemId: item})
			if err == nil {
				orders[i] = resp.GetOrderId()
			}
			return err
		})
		won := 0
		for i, id := range orders {
			if id == "" {
				continue
			}
			won++
			o, err := m.client.GetOrder(ctx, &platform.GetOrderRequest{OrderId: id})
			require.NoError(t, err)
			assert.Equal(t, playerName(item, i), o.GetPlayer())
			assert.Equal(t, item, o.GetItemId())
		}
		doubled = won > 1
	}
	assert.True(t, doubled, "the seeded race sold some item twice within 20 bursts")
}

func playerName(item int64, i int) string { return fmt.Sprintf("p%d-%d", item, i) }
