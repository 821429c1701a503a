// Package proxy is the recording proxy: a transparent reverse proxy for
// HTTP/1.1, HTTP/2 (h2c and TLS), gRPC and WebSocket that tees every exchange
// into a sink.Sink as it flows, without buffering streams or slowing traffic.
// Recorder wraps it with a listener, a fail-open queue, redaction and a
// recording file; it is what `reprise record` runs.
//
// The proxy classifies each request with the protocol codecs registered in
// harness/protocol (extensions/protocols/...), and those codecs split gRPC
// bodies and upgraded WebSocket connections into messages: a codec added to
// the registry is used without a change here.
//
// Two recorded fields are derived rather than observed. net/http does not
// expose HTTP/2 stream IDs, so the n-th request handled on a connection gets
// stream ID 2n-1: exact when a client opens streams one at a time, numbered in
// handler-arrival order when streams race. The first-byte time is when the
// upstream's response headers reached the proxy.
package proxy
