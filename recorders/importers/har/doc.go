// Package har imports HTTP Archive (HAR 1.2) files, as browser devtools
// (Chrome, Firefox), Charles, mitmproxy and Fiddler export them, into Reprise
// exchanges written through a sink.
//
// Use:
//
//	stats, err := har.Import(ctx, r, "trace.har", newSink, opts...)
//
// See package importers for newSink, the options, the header and the errors.
// A HAR file is one JSON document, so it is read and checked whole (bounded
// by importers.MaxInputBytes, DefaultMaxInputBytes by default) before newSink
// is called: a bad file never creates an output, and the clock anchor is the
// earliest startedDateTime. Entries are sorted by start (stable) and numbered
// from 1 in that order.
//
// Mapping of an entry:
//   - start_ns is startedDateTime; first_byte_ns is start + blocked + dns +
//     connect + send + wait (ssl is part of connect in HAR 1.2; -1 counts
//     as 0); end_ns is start + time, or + the sum of the timings when time is
//     missing. Times are clamped so that start ≤ first byte ≤ end.
//   - request.url gives scheme, host, path (escaped, as on the wire) and
//     raw_query; the fragment and any user:password@ are dropped. A
//     WebSocket's ws/wss URL is recorded as the http/https upgrade request. httpVersion "HTTP/1.x" is HTTP/1;
//     "h2", "HTTP/2", "HTTP/2.0" are HTTP/2 (H2 over https, H2C over http);
//     "h3"/"HTTP/3" is recorded as H2 with proto "HTTP/3.0", the closest
//     protocol a replay can speak; an empty version is taken as HTTP/1.1.
//   - Headers keep their order; HTTP/2 pseudo-headers (":authority", ...)
//     and Host (it is in the host field) are dropped, as a Go server, and
//     so the proxy, drops them.
//   - The request body is postData.text, or postData.params encoded as a
//     form when the MIME type is application/x-www-form-urlencoded. Other
//     params-only bodies (multipart) cannot be rebuilt: they are recorded
//     empty, truncated, with the size from request.bodySize.
//   - The response body is content.text, base64-decoded when
//     content.encoding is "base64". HAR holds bodies already decoded, so, to
//     keep each record self-consistent (bytes as the headers describe them),
//     a Content-Encoding header is removed and a Content-Length header is set
//     to the decoded length. A body the tool did not export (text missing
//     while content.size > 0) is recorded empty, truncated, with that size.
//   - Status 0 (Chrome's blocked or failed requests) gives no response and
//     the exchange's error is _error, or "no response".
//   - gRPC (application/grpc over HTTP/2) is split into messages by the
//     protocols.grpc codec; grpc-web stays plain HTTP, which is what a
//     browser sent. Chrome's WebSocket entries (_webSocketMessages) become
//     WebSocket exchanges with their frames.
//   - connection (Chrome's socket id) is parsed as a number, or hashed
//     (FNV-1a) when it is not one.
//   - The session key comes from the request headers (and the cookies list
//     when no Cookie header was exported). HAR has no client address: when
//     the chain yields nothing, the key is "har:" + the file name, source
//     "har-file", because one HAR file is one browser's traffic; splitting
//     it by pageref would cut the causality between pages (a login on one
//     page, API calls on the next).
package har
