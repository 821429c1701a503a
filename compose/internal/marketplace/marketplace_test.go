package marketplace

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

func TestCatalogueIsDeterministic(t *testing.T) {
	a, err := New(DefaultConfig(), nil, nil)
	require.NoError(t, err)
	b, err := New(DefaultConfig(), nil, nil)
	require.NoError(t, err)
	la, err := a.ListItems(ctxT(t), &platform.ListItemsRequest{})
	require.NoError(t, err)
	lb, err := b.ListItems(ctxT(t), &platform.ListItemsRequest{})
	require.NoError(t, err)
	require.Len(t, la.GetItems(), DefaultItems)
	names := map[string]bool{}
	for i, it := range la.GetItems() {
		assert.Equal(t, int64(i+1), it.GetId())
		assert.Equal(t, it.GetName(), lb.GetItems()[i].GetName())
		assert.Equal(t, it.GetPrice(), lb.GetItems()[i].GetPrice())
		assert.GreaterOrEqual(t, it.GetPrice(), int64(10))
		assert.LessOrEqual(t, it.GetPrice(), int64(100))
		assert.Empty(t, it.GetOwner())
		assert.False(t, names[it.GetName()], "duplicate name %q", it.GetName())
		names[it.GetName()] = true
	}
	assert.Equal(t, "Rusty Blade", itemName(1))
	assert.Equal(t, "Rusty Blade Mk 2", itemName(101))
}

func TestConfigValidateNamesField(t *testing.T) {
	for field, cfg := range map[string]Config{
		"items":          {Items: 0, StartBalance: 1, SubmitTimeout: 1},
		"start-balance":  {Items: 1, StartBalance: -1, SubmitTimeout: 1},
		"submit-timeout": {Items: 1, StartBalance: 1},
	} {
		err := cfg.Validate()
		assert.ErrorIs(t, err, ErrConfig)
		assert.ErrorContains(t, err, field+":")
	}
	assert.NoError(t, DefaultConfig().Validate())
}

func TestBuyDebitsTransfersAndSubmitsTx(t *testing.T) {
	m := startMarket(t, DefaultConfig())
	ctx := ctxT(t)

	ep, err := m.client.EnsurePlayer(ctx, &platform.EnsurePlayerRequest{Player: "ann"})
	require.NoError(t, err)
	assert.True(t, ep.GetCreated())
	assert.Equal(t, int64(DefaultStartBalance), ep.GetBalance())
	ep, err = m.client.EnsurePlayer(ctx, &platform.EnsurePlayerRequest{Player: "ann"})
	require.NoError(t, err)
	assert.False(t, ep.GetCreated(), "a second EnsurePlayer keeps the player")

	price := itemPrice(3)
	resp, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 3})
	require.NoError(t, err)
	assert.Regexp(t, `^ord-[0-9a-f]{8}-000001$`, resp.GetOrderId())
	assert.Equal(t, int64(3), resp.GetItemId())
	assert.Equal(t, DefaultStartBalance-price, resp.GetBalance())
	assert.Regexp(t, `^0x[0-9a-f]{64}$`, resp.GetTxHash())

	bal, err := m.client.GetBalance(ctx, &platform.GetBalanceRequest{Player: "ann"})
	require.NoError(t, err)
	assert.Equal(t, DefaultStartBalance-price, bal.GetBalance())
	list, err := m.client.ListItems(ctx, &platform.ListItemsRequest{})
	require.NoError(t, err)
	assert.Equal(t, "ann", list.GetItems()[2].GetOwner())

	txs := m.seq.Received()
	require.Len(t, txs, 1)
	assert.Equal(t, "buy", txs[0].GetKind())
	assert.Equal(t, "ann", txs[0].GetPlayer())
	assert.Equal(t, "ann", txs[0].GetTo())
	assert.Equal(t, "", txs[0].GetFrom(), "the market sells")
	assert.Equal(t, int64(3), txs[0].GetItemId())
	assert.Equal(t, price, txs[0].GetAmount())
	assert.NotZero(t, txs[0].GetSubmittedUnixNano())
}

func TestBuyRefusals(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StartBalance = 20
	m := startMarket(t, cfg)
	ctx := ctxT(t)
	cheap, dear := int64(0), int64(0)
	for id := int64(1); id <= DefaultItems && (cheap == 0 || dear == 0); id++ {
		switch p := itemPrice(id); {
		case p <= 20 && cheap == 0:
			cheap = id
		case p > 20 && dear == 0:
			dear = id
		}
	}
	require.NotZero(t, cheap)
	require.NotZero(t, dear)

	_, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "bob", ItemId: dear})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Equal(t, ReasonInsufficientBalance, Reason(err))
	assert.Contains(t, status.Convert(err).Message(), "insufficient balance")

	_, err = m.client.Buy(ctx, &platform.BuyRequest{Player: "bob", ItemId: cheap})
	require.NoError(t, err)
	_, err = m.client.Buy(ctx, &platform.BuyRequest{Player: "cy", ItemId: cheap})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	assert.Equal(t, ReasonItemSold, Reason(err))
	assert.Contains(t, status.Convert(err).Message(), "already sold")

	_, err = m.client.Buy(ctx, &platform.BuyRequest{Player: "bob", ItemId: 9999})
	assert.Equal(t, codes.NotFound, status.Code(err))
	_, err = m.client.Buy(ctx, &platform.BuyRequest{Player: "", ItemId: 1})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	_, err = m.client.GetBalance(ctx, &platform.GetBalanceRequest{Player: "nobody"})
	assert.Equal(t, codes.NotFound, status.Code(err))

	code, body := httpGet(t, "http://"+m.svc.HTTPAddr()+"/metrics")
	require.Equal(t, 200, code)
	for _, want := range []string{
		`marketplace_buys_total{outcome="ok"} 1`,
		`marketplace_buys_total{outcome="sold"} 1`,
		`marketplace_buys_total{outcome="insufficient"} 1`,
		`marketplace_buys_total{outcome="not_found"} 1`,
		`marketplace_buys_total{outcome="invalid"} 1`,
		`marketplace_items_sold 1`,
		`grpc_server_handled_total{grpc_code="FailedPrecondition",grpc_method="Buy",grpc_service="reprise.platform.v1.Marketplace",grpc_type="unary"} 2`,
	} {
		assert.Contains(t, body, want)
	}
}

func TestBuyRequestIDIsIdempotent(t *testing.T) {
	m := startMarket(t, DefaultConfig())
	ctx := ctxT(t)
	first, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 5, RequestId: "r1"})
	require.NoError(t, err)
	again, err := m.client.Buy(ctx, &platform.BuyRequest{Player: "ann", ItemId: 5, RequestId: "r1"})
	require.NoError(t, err, "a retry with the same request id is the same order")
	assert.Equal(t, first.GetOrderId(), again.GetOrderId())
	bal, err := m.client.GetBalance(ctx, &platform.GetBalanceRequest{Player: "ann"})
	require.NoError(t, err)
	assert.Equal(t, DefaultStartBalance-itemPrice(5), bal.GetBalance(), "debited once")
	assert.Len(t, m.seq.Received(), 1)
}

func TestBuyWithSequencerDownIsUnavailableAndNotReady(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := ln.Addr().String()
	require.NoError(t, ln.Close())
	m := startMarketWith(t, DefaultConfig(), nil, deadAddr)

	_, err = m.client.Buy(ctxT(t), &platform.BuyRequest{Player: "ann", ItemId: 1})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "committed")
	code, body := httpGet(t, "http://"+m.svc.HTTPAddr()+"/readyz")
	assert.Equal(t, 503, code)
	assert.Contains(t, body, "sequencer")
}

func TestReadyOnceSequencerAnswers(t *testing.T) {
	m := startMarket(t, DefaultConfig())
	code, _ := httpGet(t, "http://"+m.svc.HTTPAddr()+"/readyz")
	assert.Equal(t, 200, code)
}

func TestNewServiceRejectsBadConfig(t *testing.T) {
	_, _, err := NewService(svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "info"}, Config{}, "", io.Discard)
	assert.ErrorIs(t, err, ErrConfig)
	_, _, err = NewService(svc.Options{HTTPAddr: "127.0.0.1:0", LogLevel: "info"}, DefaultConfig(), "", io.Discard)
	assert.ErrorContains(t, err, "--grpc")
}
