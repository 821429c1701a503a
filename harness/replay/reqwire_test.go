package replay

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// storedCases are exchanges whose requests rebuild and rebuildStored must
// read alike: headers left out or kept by name (pseudo, hop-by-hop in any
// case, names whose Unicode lower case is or is not a hop header's), names
// merged by canonical form, a truncated body, gRPC and WebSocket messages,
// and requests with nothing in them.
func storedCases() []*rprpb.Exchange {
	h := func(name string, values ...string) *rprpb.Header { return &rprpb.Header{Name: name, Values: values} }
	return []*rprpb.Exchange{
		ex{id: 1, session: "s", conn: 1, method: "POST", path: "/v1/orders", query: "a=1&b=2", startMs: 1, endMs: 2,
			reqHeaders: [][2]string{{"User-Agent", "ua/1"}, {"x-lower", "a"}, {"X-LOWER", "b"}, {"Connection", "keep-alive"},
				{"TRANSFER-ENCODING", "chunked"}, {":authority", "h"}, {"Authorization", "Bearer t"}},
			reqBody: `{"qty":2}`}.pb(),
		{Id: 2, Protocol: rprpb.Protocol_PROTOCOL_HTTP1, Request: &rprpb.Request{
			Headers: []*rprpb.Header{h("\u212Aeep-Alive", "kelvin"), h("Tran\u017Ffer-Encoding", "long s"), h("", "no name"),
				h("X-Many", "1", "2"), h("x-many", "3"), h("X-Empty")},
			Body: &rprpb.Body{Data: []byte("partial"), Truncated: true}, Trailers: []*rprpb.Header{h("X-T", "t")},
			Scheme: "https", Host: "shop", Proto: "HTTP/1.1"}},
		{Id: 3, Protocol: rprpb.Protocol_PROTOCOL_GRPC, StartNs: 100, Request: &rprpb.Request{Method: "POST", Path: "/ignored",
			Headers: []*rprpb.Header{h("Grpc-Encoding", "gzip"), h("Te", "trailers")}},
			Grpc: &rprpb.Grpc{FullMethod: "/pkg.Svc/Do", Kind: rprpb.CallKind_CALL_KIND_BIDI_STREAMING, Messages: []*rprpb.Message{
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 150, Data: []byte{1, 2}, Compressed: true},
				{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: 160, Data: []byte{3}},
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 90, Data: []byte{4}, Truncated: true}}}},
		{Id: 4, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET, Request: &rprpb.Request{Method: "GET", Path: "/ws"},
			Websocket: &rprpb.WebSocket{Messages: []*rprpb.Message{{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: []byte("hi"), Opcode: 1}}}},
		{Id: 5, Protocol: rprpb.Protocol_PROTOCOL_HTTP1},
		{Id: 6, Protocol: rprpb.Protocol_PROTOCOL_HTTP1, Request: &rprpb.Request{}, Response: &rprpb.Response{Status: 204}},
	}
}

// A stored request read from its bytes is the request rebuild makes of
// the decoded message, and the rest of the exchange decodes as proto
// decodes it.
func TestRebuildStoredMatchesRebuild(t *testing.T) {
	for _, e := range storedCases() {
		b, err := proto.Marshal(e)
		require.NoError(t, err)
		got, out, err := decodeStored(b)
		require.NoError(t, err, "exchange %d", e.GetId())
		assert.Equal(t, rebuild(e), out, "exchange %d", e.GetId())
		rest := proto.Clone(e).(*rprpb.Exchange)
		rest.Request = nil
		assert.True(t, proto.Equal(rest, got), "exchange %d: the rest decodes as it was", e.GetId())
	}
}

// FuzzRebuildStored: decodeStored never panics, and whatever proto
// decodes it reads alike (a request field given twice it leaves to proto,
// which merges them).
func FuzzRebuildStored(f *testing.F) {
	for _, e := range storedCases() {
		b, err := proto.Marshal(e)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, out, err := decodeStored(b)
		var want rprpb.Exchange
		if proto.Unmarshal(b, &want) != nil {
			return
		}
		if err == errTwoRequests {
			return
		}
		require.NoError(t, err, "proto decodes it")
		require.Equal(t, rebuild(&want), out)
		want.Request = nil
		require.True(t, proto.Equal(&want, got))
	})
}
