// Package rawproto reads and rewrites fields of protobuf messages without
// their .proto, so that correlated values found in recorded gRPC traffic can
// be captured from live responses and substituted into replayed requests.
// It names fields and recognises nested messages exactly as the planner's
// scanner (plan.ScanProto) does, re-encodes only the length prefixes that
// enclose a changed field, and copies every other byte unchanged.
package rawproto
