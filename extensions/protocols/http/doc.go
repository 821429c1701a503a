// Package http is the protocols.http codec: plain HTTP/1.1 and HTTP/2
// exchanges, whose bodies are kept whole as bytes. As a protocol.Driver it
// replays a recorded HTTP/1.1 connection on one connection of its own, one
// request at a time, writing and reading on the caller's goroutine (the
// wire format is net/http's); HTTP/2 goes through a Transport per recorded
// connection, as prior-knowledge h2c on http targets and ALPN h2 on https.
package http
