// Package recording reads and writes Reprise recordings (.rpr): a versioned,
// append-only stream of protobuf records in checksummed, zstd-compressed
// blocks. A file cut off mid-write (kill -9, full disk) reads back every
// complete block, and the reader says where the damage starts.
//
// The record schema lives in rprpb/recording.proto; the framing is described
// in docs/recording-format.md.
package recording
