package recording

import (
	"errors"
	"fmt"
	"hash/crc32"
)

// FormatVersion is the version this package writes and the newest it reads.
const FormatVersion = 1

// Magic opens every recording. Like PNG's, it catches text-mode mangling.
var Magic = [8]byte{0x89, 'R', 'P', 'R', '\r', '\n', 0x1a, '\n'}

// blockMagic opens every block, so a reader can resynchronise after damage.
var blockMagic = [4]byte{'R', 'P', 'R', 'B'}

// endMagic opens the trailer that Close writes. A file without it was not
// closed cleanly, even when it ends on a block boundary.
var endMagic = [4]byte{'R', 'P', 'R', 'E'}

// Codec is the compression applied to a block's payload.
type Codec byte

// The block codecs.
const (
	CodecNone Codec = 0
	CodecZstd Codec = 1
)

func (c Codec) String() string {
	switch c {
	case CodecNone:
		return "none"
	case CodecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", byte(c))
}

const (
	// DefaultBlockSize is the uncompressed size at which a block is closed.
	DefaultBlockSize = 256 << 10
	// MaxBlockSize bounds both the compressed and the raw size of a block a
	// reader accepts, so a hostile file cannot make it allocate without limit.
	MaxBlockSize = 256 << 20
	// maxHeaderSize bounds the file header.
	maxHeaderSize = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Sentinel errors, matched with errors.Is.
var (
	// ErrNotRecording means the input does not start with the recording magic.
	ErrNotRecording = errors.New("not a reprise recording")
	// ErrTruncated means the input ends inside a block or the header.
	ErrTruncated = errors.New("recording is truncated")
	// ErrCorrupt means a checksum or length did not match.
	ErrCorrupt = errors.New("recording is corrupt")
	// ErrVersion means the file was written by a newer format version.
	ErrVersion = errors.New("unsupported recording format version")
)

// PositionError locates damage in a recording. It wraps ErrTruncated or
// ErrCorrupt.
type PositionError struct {
	// Name is the file name when known.
	Name string
	// Offset is the byte offset where the damaged block or header starts.
	Offset int64
	// Records is how many records were read back before the damage.
	Records int64
	Reason  string
	Err     error
}

func (e *PositionError) Error() string {
	name := e.Name
	if name == "" {
		name = "recording"
	}
	return fmt.Sprintf("%s: byte %d (after %d records): %s: %v", name, e.Offset, e.Records, e.Reason, e.Err)
}

func (e *PositionError) Unwrap() error { return e.Err }
