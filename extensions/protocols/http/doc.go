// Package http is the protocols.http codec: plain HTTP/1.1 and HTTP/2
// exchanges, whose bodies are kept whole as bytes. As a protocol.Driver it
// replays them with one Transport per recorded connection: HTTP/1.1 one
// request at a time, HTTP/2 as prior-knowledge h2c on http targets and
// ALPN h2 on https.
package http
