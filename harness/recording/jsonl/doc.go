// Package jsonl converts recordings to and from JSON Lines, one JSON object
// per line, so that any recording can be read with jq and rebuilt exactly:
// `reprise cat --format jsonl a.rpr | reprise import jsonl - --out b.rpr`
// gives records and a header that are proto.Equal to the originals.
//
// # Lines
//
// The first line is the file header, {"kind":"header", ...}; a stream without
// one is accepted and gets DefaultHeader. Every further line is a record:
//
//   - {"kind":"exchange", ...}: one HTTP exchange, gRPC call or WebSocket
//     connection (rprpb.Exchange). Field names are the schema's, except
//     grpc.method (full_method) and grpc.status (status_code); enums are
//     short lowercase names ("h2c", "bidi_streaming", "response"), or a
//     number for a value this build does not know;
//   - {"kind":"result", ...}: the outcome of replaying one exchange
//     (rprpb.Result, with its ResponseDiff as "diff"). Field names are the
//     schema's; grpc_status is a number (-1 when the call was not gRPC);
//     status and grpc_status are always written;
//   - {"kind":"raw","protobuf":"<base64>"}: a record of a kind this build does
//     not know, carried as its protobuf bytes so that nothing is lost.
//
// A typical exchange line, shortened:
//
//	{"kind":"exchange","id":1,"session":"player-42","protocol":"http1",
//	 "start":"2026-03-01T09:30:00.001250000Z","duration_ms":2.65,
//	 "start_ns":1250000,"end_ns":3900001,
//	 "request":{"method":"POST","path":"/v1/login","headers":[...],
//	            "body":{"data":"{\"user\":\"ana\"}","size":14}},
//	 "response":{"status":200,...}}
//
// A result line, shortened (a replay of the login above, 50 µs late):
//
//	{"kind":"result","exchange_id":1,"session":"player-42","method":"POST",
//	 "route":"/v1/login","start":"2026-03-01T09:30:00.001250000Z",
//	 "latency_ms":2.25,"service_ms":2.2,"lag_ms":0.05,
//	 "intended_ns":1250000,"sent_ns":1300000,"first_byte_ns":3000000,
//	 "done_ns":3500000,"status":200,"grpc_status":-1,"substituted":1,
//	 "diff":{"json_shape_changed":true,"body_size_ratio":1}}
//
// Any other kind is an error naming the line. Blank lines are skipped.
// Unknown fields are rejected, because silently dropping them would break the
// lossless round trip.
//
// # Times
//
// Integer nanosecond fields are exact and authoritative: start_ns,
// first_byte_ns, end_ns and each message's at_ns are offsets from the header's
// clock anchor, as in the schema. Beside them the encoder writes derived
// fields for people: start and at (RFC 3339 wall time with nanoseconds, UTC),
// duration_ms and ttfb_ms (floats). The decoder ignores the derived fields
// when the integers are present, and falls back on them when a hand-written
// line leaves the integers out.
//
// A result has intended_ns, sent_ns, first_byte_ns and done_ns, on the run's
// clock. Its derived fields follow the replayer's latency rules: start is the
// intended send time, latency_ms is done − intended (corrected for
// coordinated omission), service_ms done − sent and lag_ms sent − intended.
// sent_ns, first_byte_ns and done_ns, and the figures derived from them, are
// written only when set: a dropped request has none. Without the integers the
// decoder takes intended from start, sent from lag_ms, and done from
// latency_ms, else from service_ms.
//
// # Headers
//
// Headers and trailers are lists of arrays, one array per schema Header:
// the name first, then its values in arrival order. A list keeps the order
// of names and any repeated names exactly, which an object keyed by name
// cannot:
//
//	"headers":[["Accept","application/json"],["Set-Cookie","a=1","b=2"]]
//
// In jq: `.request.headers[] | select(.[0]=="Accept") | .[1:][]`, or
// `.request.headers | map({(.[0]|ascii_downcase): .[1:]}) | add` for an
// object (where a repeated name keeps only its last entry).
//
// # Bodies and messages
//
// A body is {"data": ..., "size": N, "truncated": true}. Data that is valid
// UTF-8 is written as a plain JSON string; anything else is standard base64
// with "encoding":"base64" beside it. gRPC messages and WebSocket frames
// follow the same rule. JSON bodies stay strings, byte for byte (jq:
// `.response.body.data | fromjson`).
//
// # Newer schemas
//
// When a record or header holds fields newer than this build (unknown
// protobuf fields), its line also carries "protobuf": the complete message as
// base64 protobuf, and the decoder takes that over the view, so even such a
// record survives the round trip. A result whose body_size_ratio is NaN or
// infinite, which JSON cannot write, travels the same way (its view shows 0).
package jsonl
