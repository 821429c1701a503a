// Package protocols is the parent of the in-tree protocol codecs
// (extension namespace "protocols"): http and grpc.
package protocols
