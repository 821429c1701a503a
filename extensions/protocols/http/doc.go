// Package http is the protocols.http codec: plain HTTP/1.1 and HTTP/2
// exchanges, whose bodies are kept whole as bytes.
package http
