// Package grpc is the protocols.grpc codec: it recognises gRPC calls by
// content type and splits their bodies into length-prefixed messages, keeping
// each message's arrival time, so that streams of every call kind are
// recorded message by message. As a protocol.Driver it replays them from the
// raw recorded message bytes (no .proto needed) over one grpc-go ClientConn
// per recorded connection, h2c on http targets and h2 on https, sending each
// client message at its recorded offset from the call's start.
package grpc
