// Package jsonltest builds a small, fixed recording that sets every field of
// the schema at least once (HTTP/1.1 and HTTP/2, binary and text bodies,
// repeated headers, trailers, gRPC streams, WebSocket frames, errors, replay
// results with response diffs, a record of an unknown kind), for the tests of
// the JSON Lines interchange and of the commands that read and write
// recordings.
package jsonltest
