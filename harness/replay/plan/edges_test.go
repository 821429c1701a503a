package plan_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func TestIntraSessionOrderKeepsLatestEndingPredecessor(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", path: "/a", startMs: 0, endMs: 10},
		ex{id: 2, session: "s", path: "/b", startMs: 2, endMs: 5},
		ex{id: 3, session: "s", path: "/c", startMs: 12, endMs: 20}, // after 1 and 2 ended
		ex{id: 4, session: "s", path: "/d", startMs: 15, endMs: 16}, // overlaps 3
		ex{id: 5, session: "other", path: "/e", startMs: 30, endMs: 31},
	)
	e, ok := edge(p, 1, 3)
	require.True(t, ok, "3 waits for the latest-ending exchange before it")
	assert.Equal(t, plan.Order, e.Kind)
	assert.Equal(t, 2*time.Millisecond, p.Think(e))
	_, ok = edge(p, 2, 3)
	assert.False(t, ok, "only the immediate predecessor is kept")
	_, ok = edge(p, 3, 4)
	assert.False(t, ok, "overlapping exchanges are independent")
	_, ok = edge(p, 1, 4)
	assert.True(t, ok)
	assert.Empty(t, p.Preds(4), "sessions do not order each other")
	assert.Len(t, p.Edges, 2)
}

func TestLoginTokenInBearerHeaderIsDataEdgeAcrossSessions(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "127.0.0.1", method: "POST", path: "/v1/login", startMs: 0, endMs: 5,
			reqBody:  `{"user":"tester-0006","password":"rpr-redacted-20da9620c8f42e7cd2b28b01"}`,
			respBody: `{"token":"` + tok + `","player_id":"tester-0006","balance":1000}`},
		ex{id: 2, session: "tester-0006", path: "/v1/items", startMs: 7, endMs: 9,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + tok}}},
		ex{id: 3, session: "tester-0006", path: "/v1/players/tester-0006/history", startMs: 10, endMs: 11,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + tok}}},
	)
	e, ok := edge(p, 1, 2)
	require.True(t, ok)
	assert.Equal(t, plan.Data, e.Kind)
	assert.Equal(t, 2*time.Millisecond, p.Think(e))
	require.Len(t, p.Correlations, 1, "player_id was sent in the login request first, so it is no correlation")
	c := p.Correlations[0]
	assert.Equal(t, tok, c.Value)
	assert.Equal(t, uint64(1), c.Source.Exchange)
	assert.Equal(t, plan.Location{Part: plan.PartJSON, Path: "$.token"}, c.Source.At)
	require.Len(t, c.Uses, 2)
	assert.Equal(t, plan.Location{Part: plan.PartHeader, Path: "Authorization"}, c.Uses[0].At)
	assert.Equal(t, []int{0}, p.EdgeCorrelations(e))
	_, ok = edge(p, 1, 3)
	assert.False(t, ok, "3 already waits for the login through 2")
	assert.Equal(t, 1, p.Stats().Edges.CrossSession)
}

func TestLocationETagAndSetCookie(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", method: "POST", path: "/v1/orders", startMs: 0, endMs: 5,
			respHeaders: [][2]string{
				{"Location", "/v1/orders/ord-000123"},
				{"ETag", `W/"e7a1c9f3b2"`},
				{"Set-Cookie", "sid=abc123def456; Path=/; HttpOnly"},
			}},
		ex{id: 2, session: "t", path: "/v1/orders/ord-000123", startMs: 6, endMs: 7},
		ex{id: 3, session: "u", method: "PUT", path: "/v1/carts", startMs: 8, endMs: 9,
			reqHeaders: [][2]string{{"If-Match", `W/"e7a1c9f3b2"`}}},
		ex{id: 4, session: "v", path: "/v1/me", startMs: 10, endMs: 11,
			reqHeaders: [][2]string{{"Cookie", "theme=dark; sid=abc123def456"}}},
	)
	byValue := map[string]plan.Correlation{}
	for _, c := range p.Correlations {
		byValue[c.Value] = c
	}
	loc := byValue["/v1/orders/ord-000123"]
	require.NotEmpty(t, loc.Uses, "the whole Location value is the later path")
	assert.Equal(t, plan.PartLocation, loc.Source.At.Part)
	assert.Equal(t, plan.Location{Part: plan.PartPath}, loc.Uses[0].At)
	assert.Contains(t, byValue, "ord-000123")
	etag := byValue[`W/"e7a1c9f3b2"`]
	require.NotEmpty(t, etag.Uses)
	assert.Equal(t, plan.Location{Part: plan.PartETag}, etag.Source.At)
	assert.Equal(t, plan.Location{Part: plan.PartHeader, Path: "If-Match"}, etag.Uses[0].At)
	ck := byValue["abc123def456"]
	require.NotEmpty(t, ck.Uses)
	assert.Equal(t, plan.Location{Part: plan.PartSetCookie, Path: "sid"}, ck.Source.At)
	assert.Equal(t, plan.Location{Part: plan.PartCookie, Path: "sid"}, ck.Uses[0].At)
	for _, id := range []uint64{2, 3, 4} {
		_, ok := edge(p, 1, id)
		assert.True(t, ok, "edge 1 -> %d", id)
	}
}

func TestJSONLeafInPathSegmentAndQuery(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", method: "POST", path: "/v1/items/9/buy", startMs: 0, endMs: 5,
			respBody: `{"order_id":"ord-000123","item":9,"balance":987,"receipt":{"ids":[4021337]}}`},
		ex{id: 2, session: "s", path: "/v1/orders/ord-000123", startMs: 6, endMs: 7},
		ex{id: 3, session: "s", path: "/v1/receipts", query: "id=4021337", startMs: 8, endMs: 9},
		ex{id: 4, session: "s", method: "POST", path: "/v1/refunds", startMs: 10, endMs: 11,
			reqHeaders: [][2]string{{"Content-Type", "application/json"}},
			reqBody:    `{"order":{"id":"ord-000123"}}`},
	)
	require.Len(t, p.Correlations, 2)
	assert.Equal(t, "ord-000123", p.Correlations[0].Value)
	assert.Equal(t, plan.Location{Part: plan.PartJSON, Path: "$.order_id"}, p.Correlations[0].Source.At)
	assert.Equal(t, []plan.Location{{Part: plan.PartPath}, {Part: plan.PartJSON, Path: "$.order.id"}},
		[]plan.Location{p.Correlations[0].Uses[0].At, p.Correlations[0].Uses[1].At})
	assert.Equal(t, "4021337", p.Correlations[1].Value)
	assert.Equal(t, plan.Location{Part: plan.PartJSON, Path: "$.receipt.ids[0]"}, p.Correlations[1].Source.At)
	assert.Equal(t, plan.Location{Part: plan.PartQuery, Path: "id"}, p.Correlations[1].Uses[0].At)
	e, ok := edge(p, 1, 2)
	require.True(t, ok)
	assert.Equal(t, plan.Order|plan.Data, e.Kind, "same session: ordering and data flow on one edge")
}

func TestTrivialValuesMakeNoEdges(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", path: "/v1/items", startMs: 0, endMs: 5,
			respBody: `{"items":[{"id":9,"name":"Rusty Blade","price":47,"sold":false,"kind":"weapon",` +
				`"ratio":123456.5,"status":"ITEM_AVAILABLE"}],"page":2,"echo":"req-7f3a9c21"}`},
		// Small ids, words, booleans, floats: never values.
		ex{id: 2, session: "t", method: "POST", path: "/v1/items/9/buy", query: "page=2&kind=weapon&sold=false",
			startMs: 6, endMs: 7, reqBody: `{"name":"Rusty Blade","ratio":123456.5,"status":"ITEM_AVAILABLE"}`},
		// Echoed: the client sent it first, so it is not issued by the server.
		ex{id: 0, session: "t", path: "/v1/items", query: "trace=req-7f3a9c21", startMs: -5, endMs: -4},
		ex{id: 3, session: "u", path: "/v1/trace/req-7f3a9c21", startMs: 8, endMs: 9},
	)
	assert.Empty(t, p.Correlations)
	for _, e := range p.Edges {
		assert.Equal(t, plan.Order, e.Kind)
	}
}

func TestValueInProducersOwnRequestIsNotACorrelation(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", path: "/v1/players/tester-0042", startMs: 0, endMs: 5,
			respBody: `{"player":"tester-0042","nonce":"n-88af01"}`},
		ex{id: 2, session: "t", path: "/v1/players/tester-0042/n-88af01", startMs: 6, endMs: 7},
	)
	require.Len(t, p.Correlations, 1)
	assert.Equal(t, "n-88af01", p.Correlations[0].Value)
}

func TestGRPCRawFieldCorrelates(t *testing.T) {
	// Response: field 1 = "ord-77aa01", field 2 = {field 1 = varint 9000001}.
	inner := append([]byte{0x08}, uvarint(9000001)...)
	resp := append([]byte{0x0a, 10}, "ord-77aa01"...)
	resp = append(resp, 0x12, byte(len(inner)))
	resp = append(resp, inner...)
	req := append([]byte{0x1a, 10}, "ord-77aa01"...)
	req = append(req, 0x20)
	req = append(req, uvarint(9000001)...)
	grpc := func(id uint64, start, end int64, msgs ...*rprpb.Message) *rprpb.Exchange {
		return &rprpb.Exchange{Id: id, Session: "g", Protocol: rprpb.Protocol_PROTOCOL_GRPC,
			StartNs: start, EndNs: end, Request: &rprpb.Request{Method: "POST", Path: "/market.v1.Market/Buy"},
			Grpc: &rprpb.Grpc{FullMethod: "/market.v1.Market/Buy", Messages: msgs}}
	}
	p, err := plan.Build([]*rprpb.Exchange{
		grpc(1, 0, 10, &rprpb.Message{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: 8, Data: resp}),
		grpc(2, 20, 30, &rprpb.Message{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 20, Data: req}),
	})
	require.NoError(t, err)
	require.Len(t, p.Correlations, 2)
	assert.Equal(t, "ord-77aa01", p.Correlations[0].Value)
	assert.Equal(t, plan.Location{Part: plan.PartGRPC, Path: "[0].1"}, p.Correlations[0].Source.At)
	assert.Equal(t, plan.Location{Part: plan.PartGRPC, Path: "[0].3"}, p.Correlations[0].Uses[0].At)
	assert.Equal(t, "9000001", p.Correlations[1].Value)
	assert.Equal(t, plan.Location{Part: plan.PartGRPC, Path: "[0].2.1"}, p.Correlations[1].Source.At)
	assert.Equal(t, "/market.v1.Market/Buy", p.Call(0).Route)
	e, ok := edge(p, 1, 2)
	require.True(t, ok)
	assert.Equal(t, plan.Order|plan.Data, e.Kind)
}

func TestValueFromOpenStreamIsUnordered(t *testing.T) {
	p := build(t,
		ex{id: 1, session: "s", path: "/v1/feed", startMs: 0, endMs: 100, respBody: `{"cursor":"cur-00af91"}`},
		ex{id: 2, session: "t", path: "/v1/next", query: "c=cur-00af91", startMs: 150, endMs: 151},
	)
	require.Len(t, p.Correlations, 1)
	assert.False(t, p.Correlations[0].Uses[0].Unordered)

	// A use before the producer ended cannot be: it is not first seen in a
	// response (the request came first).
	p = build(t,
		ex{id: 1, session: "s", path: "/v1/feed", startMs: 0, endMs: 100, respBody: `{"cursor":"cur-00af91"}`},
		ex{id: 2, session: "t", path: "/v1/next", query: "c=cur-00af91", startMs: 50, endMs: 51},
	)
	assert.Empty(t, p.Correlations)
}

func TestBadExchangesNameTheEntry(t *testing.T) {
	_, err := plan.Build([]*rprpb.Exchange{{Id: 7, StartNs: 10, EndNs: 5}})
	require.ErrorIs(t, err, plan.ErrBadExchange)
	assert.ErrorContains(t, err, "exchange 7: end_ns")
	_, err = plan.Build([]*rprpb.Exchange{{Id: 3}, {Id: 3}})
	assert.ErrorContains(t, err, "exchange 3: duplicate id")
	_, err = plan.Build([]*rprpb.Exchange{nil})
	assert.ErrorIs(t, err, plan.ErrBadExchange)
	_, err = plan.Build(nil, plan.MinValueLen(0))
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func TestFilters(t *testing.T) {
	exs := []*rprpb.Exchange{
		ex{id: 1, session: "a", path: "/v1/items/123456/buy", startMs: 0, endMs: 1}.pb(),
		ex{id: 2, session: "b", path: "/v1/players/p-000001/history", startMs: 10, endMs: 11}.pb(),
		ex{id: 3, session: "a", path: "/v1/missions/2", startMs: 20, endMs: 21}.pb(),
	}
	ids := func(opts ...plan.Option) []uint64 {
		p, err := plan.Build(exs, opts...)
		require.NoError(t, err)
		var out []uint64
		for _, n := range p.Nodes {
			out = append(out, n.ID)
		}
		return out
	}
	assert.Equal(t, []uint64{2, 3}, ids(plan.Window(5*time.Millisecond, 30*time.Millisecond)))
	assert.Equal(t, []uint64{1, 3}, ids(plan.Sessions("a")))
	assert.Equal(t, []uint64{1}, ids(plan.Routes("/v1/items/*/buy")))
	assert.Equal(t, []uint64{2, 3}, ids(plan.Routes("/v1/players/**", "/v1/missions/*")))
	_, err := plan.Build(exs, plan.Routes("/v1/[x"))
	assert.ErrorIs(t, err, plan.ErrBadOption)
	_, err = plan.Build(exs, plan.Window(time.Second, 0))
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func uvarint(v uint64) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
