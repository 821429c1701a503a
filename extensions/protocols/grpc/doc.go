// Package grpc is the protocols.grpc codec: it recognises gRPC calls by
// content type and splits their bodies into length-prefixed messages, keeping
// each message's arrival time, so that streams of every call kind are
// recorded message by message and can be replayed with their timing.
package grpc
