// Package protocols is the parent of the in-tree protocol codecs
// (extension namespace "protocols"): http, grpc and websocket.
package protocols
