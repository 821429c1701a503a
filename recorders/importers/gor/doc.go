// Package gor imports GoReplay text captures (.gor files, as written by
// `gor --output-file`) into Reprise exchanges written through a sink.
//
// Use:
//
//	stats, err := gor.Import(ctx, r, "traffic.gor", newSink, opts...)
//
// See package importers for newSink, the options, the header and the errors.
//
// # Format
//
// Records end with the line "🐵🙈🙉" (GoReplay writes "\n🐵🙈🙉\n" after each
// payload). A record starts with the line "TYPE ID TIMESTAMP_NS LATENCY_NS"
// (older versions omit the latency) followed by the raw HTTP/1 message.
// TYPE 1 is a request, 2 the original response, 3 a response GoReplay got
// when it replayed the request: type 3 is ignored and counted
// (Stats.Replayed). A last record without its separator (a capture cut
// short) is still read.
//
// # Streaming and pairing
//
// The input is streamed: one record at a time (at most
// importers.MaxEntryBytes) plus the messages still waiting for their other
// half, bounded by importers.MaxPending and importers.MaxPendingBytes. A
// request and a response with the same ID form one exchange, whichever comes
// first. Beyond the bounds, the oldest waiting message is given up, waiting
// responses before waiting requests (a response rarely comes before its
// request, and a late one for a request already given up never pairs): a
// request is written without a response (Stats.Evicted and Stats.Unpaired),
// a response is dropped (Stats.OrphanResponses). At the end, requests still
// waiting are written without a response (Stats.Unpaired) and responses still
// waiting are dropped. An exchange without a response has no Response, ends
// when its request had been read, and its Error is UnpairedError.
//
// Exchange IDs follow the order of the requests in the file. Exchanges are
// written when they complete, like the proxy writes them, so the IDs in the
// output are not in order; sort by start_ns (or id) for start order.
//
// # Timing and the clock anchor
//
// GoReplay stamps each message with the time of its first packet and gives
// as latency the time until its last. So start_ns is the request's
// timestamp, first_byte_ns the response's timestamp and end_ns the
// response's timestamp + its latency (the timestamp alone when no latency is
// written; versions before 1.0 wrote a round-trip time there, which makes
// end_ns late for those files). Times are clamped so that start ≤ first byte
// ≤ end. The anchor is the earliest timestamp of a request or response: when
// the input is seekable (a file) a first pass reads only the header lines to
// find it, then rewinds; from a pipe it is the first record's timestamp, and
// an exchange that started earlier (GoReplay writes from several goroutines)
// gets a small negative offset. RecorderConfig["gor.anchor"] says which
// ("earliest" or "first-record").
//
// # Messages
//
// Headers keep their order (they are read from the raw bytes, not from Go's
// header map). Scheme is "http" (GoReplay sniffs plain-text traffic) unless
// the request line holds an absolute URL; host is the Host header, which,
// as in the proxy's records, is not repeated among the headers. Bodies are
// stored as captured (still content-encoded); a chunked body is stored
// de-chunked, as the proxy stores it, so Transfer-Encoding and any
// Content-Length are dropped from its headers and its trailers go to
// trailers. A body shorter than its Content-Length (GoReplay's copy buffer
// was full) is kept, marked truncated, with the announced size. There is no
// client address in a .gor file: the session key comes from the headers
// alone (a chain entry "header:X-Real-IP" helps when GoReplay ran with
// --input-raw-realip-header), and an exchange without one has no session.
package gor
