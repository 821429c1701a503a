package rawproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadFrame is returned by Unframe for bytes that are not a gRPC
// length-prefixed message.
var ErrBadFrame = errors.New("rawproto: bad gRPC frame")

// ErrCompressed is returned by ReplaceFrame for a compressed message: its
// fields cannot be read without the grpc-encoding's decoder.
var ErrCompressed = errors.New("rawproto: compressed message cannot be rewritten")

// FrameHeaderLen is the size of gRPC's message prefix: a compressed flag
// and a big-endian uint32 length.
const FrameHeaderLen = 5

// Frame returns msg behind gRPC's 5-byte prefix, with the compressed flag
// set when compressed is true. msg must be shorter than 4 GiB, as gRPC
// requires of every message.
func Frame(msg []byte, compressed bool) []byte {
	out := make([]byte, FrameHeaderLen, FrameHeaderLen+len(msg))
	if compressed {
		out[0] = 1
	}
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)))
	return append(out, msg...)
}

// Unframe reads the first length-prefixed message of b: its bytes (aliasing
// b), its compressed flag, and what follows it, which is the next frame of a
// stream. An error wrapping ErrBadFrame names the byte offset in b.
func Unframe(b []byte) (msg []byte, compressed bool, rest []byte, err error) {
	if len(b) < FrameHeaderLen {
		return nil, false, nil, fmt.Errorf("%w: %d-byte prefix cut off at byte %d", ErrBadFrame, FrameHeaderLen, len(b))
	}
	switch b[0] {
	case 0:
	case 1:
		compressed = true
	default:
		return nil, false, nil, fmt.Errorf("%w: compressed flag %d at byte 0", ErrBadFrame, b[0])
	}
	n := uint64(binary.BigEndian.Uint32(b[1:FrameHeaderLen]))
	if n > uint64(len(b)-FrameHeaderLen) {
		return nil, false, nil, fmt.Errorf("%w: message of %d bytes cut off at byte %d", ErrBadFrame, n, len(b))
	}
	end := FrameHeaderLen + int(n)
	return b[FrameHeaderLen:end], compressed, b[end:], nil
}

// ReplaceFrame is Replace on the one framed message that frame holds,
// returned framed again. A compressed message is ErrCompressed.
func ReplaceFrame(frame []byte, path string, nth int, old, new string) ([]byte, error) {
	msg, compressed, rest, err := Unframe(frame)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the message at byte %d", ErrBadFrame, len(rest), len(frame)-len(rest))
	}
	if compressed {
		return nil, fmt.Errorf("rawproto: replace at %s: %w", path, ErrCompressed)
	}
	out, err := Replace(msg, path, nth, old, new)
	if err != nil {
		return nil, err
	}
	return Frame(out, false), nil
}
