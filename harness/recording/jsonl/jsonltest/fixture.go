package jsonltest

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Anchor is the fixture's clock anchor: 2026-03-01T09:30:00Z.
const Anchor int64 = 1772357400_000000000

// Header returns the fixture's file header.
func Header() *rprpb.FileHeader {
	return &rprpb.FileHeader{
		FormatVersion:   recording.FormatVersion,
		CreatedUnixNano: Anchor + 5,
		Recorder:        "reprise record v0.1.0",
		RecorderConfig:  map[string]string{"listen": "127.0.0.1:8080", "upstream": "http://127.0.0.1:9090", "body_cap": "1048576"},
		Redaction: &rprpb.RedactionPolicy{
			Scheme: "hmac-sha256", KeyId: "0123456789abcdef", PlaceholderPrefix: "rpr-redacted-",
			Headers: []string{"X-Api-Key"}, QueryParams: []string{"token"}, JsonFields: []string{"password"},
		},
		Clock:  &rprpb.Clock{Source: "monotonic", AnchorUnixNano: Anchor},
		Labels: map[string]string{"tester_build": "1.4.2", "env": "beta"},
	}
}

func hdr(name string, values ...string) *rprpb.Header {
	return &rprpb.Header{Name: name, Values: values}
}

func exchange(ex *rprpb.Exchange) *rprpb.Record {
	return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}
}

// Records returns the fixture's records, in order.
func Records() []*rprpb.Record {
	login := exchange(&rprpb.Exchange{
		Id: 1, Session: "player-42", SessionSource: "header:X-Session-Id",
		ConnectionId: 7, Protocol: rprpb.Protocol_PROTOCOL_HTTP1, ClientAddr: "127.0.0.1:51234",
		StartNs: 1_250_000, FirstByteNs: 3_400_123, EndNs: 3_900_001,
		Request: &rprpb.Request{
			Method: "POST", Scheme: "http", Host: "api.local", Path: "/v1/login", RawQuery: "next=%2Fhome&lang=fr",
			Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{
				hdr("Content-Type", "application/json"),
				hdr("X-Session-Id", "player-42"),
				hdr("Accept", "application/json", "text/plain"),
				hdr("Accept", "*/*"),
				hdr("X-Empty"),
			},
			Body: &rprpb.Body{Data: []byte(`{"user":"ana","password":"rpr-redacted-00112233445566778899aabb"}`), Size: 64},
		},
		Response: &rprpb.Response{
			Status: 200, Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{
				hdr("Content-Type", "application/json; charset=utf-8"),
				hdr("Set-Cookie", "sid=rpr-redacted-aa; Path=/; HttpOnly"),
				hdr("Set-Cookie", "theme=dark"),
			},
			Body: &rprpb.Body{Data: []byte("{\"token\":\"rpr-redacted-bb\",\"greeting\":\"héllo <world> & \\\"you\\\"\\n\"}"), Size: 58},
		},
	})
	image := exchange(&rprpb.Exchange{
		Id: 2, Session: "player-42", SessionSource: "header:X-Session-Id",
		ConnectionId: 7, Protocol: rprpb.Protocol_PROTOCOL_HTTP1, ClientAddr: "127.0.0.1:51234",
		StartNs: 5_000_000, FirstByteNs: 6_000_000, EndNs: 9_000_000,
		Request: &rprpb.Request{Method: "GET", Scheme: "http", Host: "api.local", Path: "/v1/avatar.png", Proto: "HTTP/1.1"},
		Response: &rprpb.Response{
			Status: 200, Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{hdr("Content-Type", "image/png"), hdr("Content-Encoding", "gzip")},
			Body:    &rprpb.Body{Data: []byte{0x89, 'P', 'N', 'G', 0x00, 0xff, 0xfe, 0x1f, 0x8b}, Truncated: true, Size: 204800},
		},
	})
	chunked := exchange(&rprpb.Exchange{
		Id: 3, Session: "player-7", SessionSource: "jwt-sub",
		ConnectionId: 8, StreamId: 3, Protocol: rprpb.Protocol_PROTOCOL_H2, ClientAddr: "[::1]:40000",
		StartNs: 10_000_000, FirstByteNs: 12_000_000, EndNs: 20_000_000,
		Request: &rprpb.Request{
			Method: "PUT", Scheme: "https", Host: "api.local", Path: "/v1/items/9", Proto: "HTTP/2.0",
			Headers:  []*rprpb.Header{hdr("Authorization", "Bearer rpr-redacted-cc"), hdr("Te", "trailers")},
			Body:     &rprpb.Body{Data: []byte("plain text\twith\x00nul"), Size: 19},
			Trailers: []*rprpb.Header{hdr("X-Checksum", "abc")},
		},
		Response: &rprpb.Response{
			Status: 409, Proto: "HTTP/2.0",
			Body:     &rprpb.Body{}, // present but empty
			Trailers: []*rprpb.Header{hdr("X-Retry", "1", "2")},
		},
	})
	stream := exchange(&rprpb.Exchange{
		Id: 4, Session: "player-7", SessionSource: "grpc-metadata:x-session-id",
		ConnectionId: 8, StreamId: 5, Protocol: rprpb.Protocol_PROTOCOL_GRPC, ClientAddr: "[::1]:40000",
		StartNs: 21_000_000, FirstByteNs: 22_500_000, EndNs: 40_000_000,
		Request: &rprpb.Request{
			Method: "POST", Scheme: "http", Host: "api.local", Path: "/echo.Echo/Chat", Proto: "HTTP/2.0",
			Headers: []*rprpb.Header{hdr("Content-Type", "application/grpc"), hdr("x-session-id", "player-7")},
		},
		Response: &rprpb.Response{
			Status: 200, Proto: "HTTP/2.0",
			Headers:  []*rprpb.Header{hdr("Content-Type", "application/grpc")},
			Trailers: []*rprpb.Header{hdr("Grpc-Status", "5"), hdr("Grpc-Message", "no such room")},
		},
		Grpc: &rprpb.Grpc{
			FullMethod: "/echo.Echo/Chat", Kind: rprpb.CallKind_CALL_KIND_BIDI_STREAMING,
			StatusCode: 5, StatusMessage: "no such room",
			Messages: []*rprpb.Message{
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 21_100_000, Data: []byte{0x0a, 0x02, 'h', 'i'}, Size: 4},
				{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: 22_500_000, Data: []byte{0x0a, 0x80, 0x01}, Size: 3},
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 30_000_001, Data: []byte{0x1f, 0x8b, 0x08, 0x00}, Compressed: true, Truncated: true, Size: 70000},
				{Direction: rprpb.Direction(9), AtNs: 31_000_000}, // a direction from a newer schema
			},
		},
	})
	ws := exchange(&rprpb.Exchange{
		Id: 5, Session: "", ConnectionId: 9, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET,
		ClientAddr: "127.0.0.1:51300", StartNs: 41_000_000, FirstByteNs: 41_500_000, EndNs: 90_000_000,
		Request: &rprpb.Request{
			Method: "GET", Scheme: "http", Host: "api.local", Path: "/ws", Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{hdr("Upgrade", "websocket"), hdr("Connection", "Upgrade")},
		},
		Response: &rprpb.Response{Status: 101, Proto: "HTTP/1.1"},
		Websocket: &rprpb.WebSocket{
			BytesClientToServer: 30, BytesServerToClient: 1200,
			Messages: []*rprpb.Message{
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 42_000_000, Data: []byte(`{"op":"sub","room":"r1"}`), Size: 24, Opcode: 1},
				{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: 43_000_000, Data: []byte{0xde, 0xad, 0xbe, 0xef}, Size: 1176, Truncated: true, Opcode: 2},
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 89_000_000, Opcode: 9},
				{Direction: rprpb.Direction_DIRECTION_REQUEST, AtNs: 89_500_000, Data: []byte{0x03, 0xe8}, Size: 2, Opcode: 8},
			},
		},
	})
	failed := exchange(&rprpb.Exchange{
		Id: 6, Session: "player-42", SessionSource: "header:X-Session-Id",
		ConnectionId: 10, Protocol: rprpb.Protocol_PROTOCOL_H2C, ClientAddr: "127.0.0.1:51400",
		StartNs: 95_000_000, EndNs: 95_000_900,
		Request: &rprpb.Request{Method: "DELETE", Scheme: "http", Host: "api.local", Path: "/v1/items/9", RawQuery: "force=1", Proto: "HTTP/2.0"},
		Error:   "upstream: dial tcp 127.0.0.1:9090: connect: connection refused",
	})
	opaque := exchange(&rprpb.Exchange{
		Id: 7, Protocol: rprpb.Protocol(42), StartNs: -1_000, EndNs: 100_000_000,
		Websocket: &rprpb.WebSocket{Opaque: true, BytesClientToServer: 5, BytesServerToClient: 6},
	})
	recs := []*rprpb.Record{login, image, chunked, stream, ws, failed, opaque, UnknownKind(), NewerExchange()}
	return append(recs, Results()...)
}

func result(r *rprpb.Result) *rprpb.Record {
	return &rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}
}

// Results returns the fixture's result records, the outcomes of replaying
// some of its exchanges; Records ends with them.
func Results() []*rprpb.Record {
	// The login replayed 50 µs late; the JSON kept its shape.
	login := result(&rprpb.Result{
		ExchangeId: 1, Session: "player-42", Method: "POST", Route: "/v1/login",
		IntendedNs: 1_250_000, SentNs: 1_300_000, FirstByteNs: 3_000_000, DoneNs: 3_500_000,
		Status: 200, GrpcStatus: -1, Substituted: 1,
		Diff: &rprpb.ResponseDiff{BodySizeRatio: 1},
	})
	// The gRPC stream, in amplification clone 1: a value it needed was never
	// supplied, the reply changed shape and size, and the stream was reset
	// before its end.
	stream := result(&rprpb.Result{
		ExchangeId: 4, Clone: 1, Session: "player-7#1", Method: "POST", Route: "/echo.Echo/Chat",
		IntendedNs: 21_000_000, SentNs: 21_000_250, FirstByteNs: 22_000_000, DoneNs: 45_000_001,
		Status: 200, GrpcStatus: 5, Unresolved: []string{"room_id", "cursor"}, Substituted: 2,
		Error: "grpc: stream reset", Failed: true,
		Diff: &rprpb.ResponseDiff{JsonShapeChanged: true, BodySizeRatio: 0.75},
	})
	// The conflicting PUT now fails on the server.
	put := result(&rprpb.Result{
		ExchangeId: 3, Session: "player-7", Method: "PUT", Route: "/v1/items/{id}",
		IntendedNs: 10_000_000, SentNs: 10_000_100, FirstByteNs: 11_000_000, DoneNs: 11_000_000,
		Status: 503, GrpcStatus: -1,
		Diff: &rprpb.ResponseDiff{StatusClassChanged: true},
	})
	// A transport failure, then a request that was never sent because of it.
	refused := result(&rprpb.Result{
		ExchangeId: 2, Session: "player-42", Method: "GET", Route: "/v1/avatar.png",
		IntendedNs: 5_000_000, SentNs: 5_000_010, DoneNs: 5_200_000, GrpcStatus: -1,
		Error: "dial tcp 127.0.0.1:9090: connect: connection refused",
	})
	dropped := result(&rprpb.Result{
		ExchangeId: 6, Session: "player-42", Method: "DELETE", Route: "/v1/items/{id}",
		IntendedNs: 95_000_000, GrpcStatus: -1, Dropped: true,
	})
	return []*rprpb.Record{login, stream, put, refused, dropped}
}

// UnknownKind returns a record of a kind added by a later schema version
// (field 16 of Record: the first number after the reserved 3 to 15), which
// this build only sees as unknown bytes.
func UnknownKind() *rprpb.Record {
	rec := &rprpb.Record{}
	var b []byte
	b = protowire.AppendTag(b, 16, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("a crash event from the future"))
	rec.ProtoReflect().SetUnknown(b)
	return rec
}

// NewerExchange returns an exchange that carries a field this build does not
// know (Exchange field 99), as a file written by a newer recorder would.
func NewerExchange() *rprpb.Record {
	rec := exchange(&rprpb.Exchange{
		Id: 8, Session: "player-42", Protocol: rprpb.Protocol_PROTOCOL_HTTP1, StartNs: 100_000_000, EndNs: 101_000_000,
		Request:  &rprpb.Request{Method: "GET", Path: "/v1/new"},
		Response: &rprpb.Response{Status: 204},
	})
	var b []byte
	b = protowire.AppendTag(b, 99, protowire.VarintType)
	b = protowire.AppendVarint(b, 12345)
	rec.GetExchange().ProtoReflect().SetUnknown(b)
	return rec
}

// Write writes the fixture as a recording to path, with small blocks so that
// it spans several of them.
func Write(t testing.TB, path string) {
	t.Helper()
	w, err := recording.Create(path, Header(), recording.BlockSize(512))
	require.NoError(t, err)
	for _, rec := range Records() {
		require.NoError(t, w.Write(rec))
	}
	require.NoError(t, w.Close())
}
