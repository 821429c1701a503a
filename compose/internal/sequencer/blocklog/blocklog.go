package blocklog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"google.golang.org/protobuf/proto"
)

// FileName is the log's name inside its data dir.
const FileName = "blocks.log"

// MaxRecord bounds one record's payload. It is far above any block the
// sequencer can stream (gRPC's default message limit is 4 MiB), so a larger
// length is damage, not data.
const MaxRecord = 64 << 20

// The file is magic, then records: uint32 payload length, uint32 CRC-32C
// (Castagnoli) of the payload, both little-endian, then the payload, a
// deterministically marshalled pb.Block.
const headerSize = 8

var (
	magic      = []byte("RPRBLK1\n")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// Errors a Log returns.
var (
	ErrCorrupt    = errors.New("block log corrupt")
	ErrClosed     = errors.New("block log closed")
	ErrOutOfRange = errors.New("block not in log")
	ErrOutOfOrder = errors.New("block does not extend the log")
)

// Log is an open block log. Blocks are numbered from 1 and each names its
// predecessor's hash; Append keeps it so and Open checks it.
type Log struct {
	path string
	wmu  sync.Mutex // one Append at a time; held across write and fsync

	mu        sync.RWMutex // guards everything below; readers never wait on fsync
	f         *os.File
	offsets   []int64 // offsets[i] is where block i+1's record starts
	size      int64   // end of the last complete record
	lastHash  string
	txs       uint64
	truncated int64
	broken    error // sticky: after a failed write or fsync nothing more is appended
	closed    bool
}

// Open opens or creates the log in dir, recovering it: a torn last record
// is truncated away (see Truncated); damage anywhere else is ErrCorrupt
// with the file and offset, and nothing is changed.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blocklog: data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("blocklog: %w", err)
	}
	l := &Log{path: path, f: f}
	if err := l.recover(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

func (l *Log) corrupt(off int64, record int, format string, args ...any) error {
	where := fmt.Sprintf("%s: offset %d", l.path, off)
	if record > 0 {
		where += fmt.Sprintf(": record %d", record)
	}
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, where, fmt.Sprintf(format, args...))
}

func (l *Log) recover() error {
	st, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("blocklog: %w", err)
	}
	size := st.Size()
	if size < int64(len(magic)) {
		return l.create(size)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, 0, size), 1<<16)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("blocklog: %s: %w", l.path, err)
	}
	if !bytes.Equal(head, magic) {
		return l.corrupt(0, 0, "not a block log: starts %q, want %q", head, magic)
	}
	off := int64(len(magic))
	var hdr [headerSize]byte
	var prev *pb.Block
	for off < size {
		rec, rest := len(l.offsets)+1, size-off
		if rest < headerSize {
			return l.cut(off, size)
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("blocklog: %s: offset %d: %w", l.path, off, err)
		}
		n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
		sum := binary.LittleEndian.Uint32(hdr[4:8])
		switch {
		case n == 0 || n > MaxRecord:
			// A crash can leave the file longer than what reached it: zeros.
			if hdr == [headerSize]byte{} && allZero(r, rest-headerSize) {
				return l.cut(off, size)
			}
			return l.corrupt(off, rec, "length %d out of range 1..%d", n, MaxRecord)
		case n > rest-headerSize:
			return l.cut(off, size)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return fmt.Errorf("blocklog: %s: offset %d: %w", l.path, off, err)
		}
		if got := crc32.Checksum(payload, castagnoli); got != sum {
			if off+headerSize+n == size {
				return l.cut(off, size) // the last record, half written
			}
			return l.corrupt(off, rec, "checksum %08x, want %08x", got, sum)
		}
		b := &pb.Block{}
		if err := proto.Unmarshal(payload, b); err != nil {
			return l.corrupt(off, rec, "undecodable block: %v", err)
		}
		if err := follows(prev, b); err != nil {
			return l.corrupt(off, rec, "%v", err)
		}
		l.offsets = append(l.offsets, off)
		l.txs += uint64(len(b.GetTxs()))
		l.lastHash = b.GetHash()
		prev = b
		off += headerSize + n
	}
	l.size = size
	return nil
}

// create writes the magic into an empty file, or one whose creation a
// crash interrupted, and makes the file's name durable too.
func (l *Log) create(size int64) error {
	buf := make([]byte, size)
	if _, err := l.f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("blocklog: %s: %w", l.path, err)
	}
	if !bytes.HasPrefix(magic, buf) {
		return l.corrupt(0, 0, "not a block log: starts %q, want %q", buf, magic)
	}
	if _, err := l.f.WriteAt(magic, 0); err != nil {
		return fmt.Errorf("blocklog: %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("blocklog: %s: %w", l.path, err)
	}
	l.size = int64(len(magic))
	return syncDir(filepath.Dir(l.path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blocklog: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("blocklog: sync %s: %w", dir, err)
	}
	return nil
}

// cut drops the torn tail from off to size.
func (l *Log) cut(off, size int64) error {
	if err := l.f.Truncate(off); err != nil {
		return fmt.Errorf("blocklog: %s: truncate torn tail at offset %d: %w", l.path, off, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("blocklog: %s: %w", l.path, err)
	}
	l.size, l.truncated = off, size-off
	return nil
}

func allZero(r io.Reader, n int64) bool {
	buf := make([]byte, 32<<10)
	for n > 0 {
		k, err := r.Read(buf[:min(int64(len(buf)), n)])
		for _, c := range buf[:k] {
			if c != 0 {
				return false
			}
		}
		n -= int64(k)
		if err != nil {
			return n == 0
		}
	}
	return true
}

func follows(prev, b *pb.Block) error {
	switch {
	case prev == nil && b.GetNumber() != 1:
		return fmt.Errorf("%w: first block is %d, want 1", ErrOutOfOrder, b.GetNumber())
	case prev == nil:
		return nil
	case b.GetNumber() != prev.GetNumber()+1:
		return fmt.Errorf("%w: block %d after block %d", ErrOutOfOrder, b.GetNumber(), prev.GetNumber())
	case b.GetParentHash() != prev.GetHash():
		return fmt.Errorf("%w: block %d's parent is %s, block %d is %s",
			ErrOutOfOrder, b.GetNumber(), b.GetParentHash(), prev.GetNumber(), prev.GetHash())
	}
	return nil
}

// Append writes b and fsyncs it: when Append returns nil the block
// survives a crash. b must be block Len()+1 and name the last block's hash.
// A failed write or fsync stops the log for good (the page cache can no
// longer be trusted); reopening recovers what reached the disk.
func (l *Log) Append(b *pb.Block) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.RLock()
	closed, broken, n, off := l.closed, l.broken, uint64(len(l.offsets)), l.size
	var prev *pb.Block
	if n > 0 {
		prev = &pb.Block{Number: n, Hash: l.lastHash}
	}
	l.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case broken != nil:
		return broken
	}
	if err := follows(prev, b); err != nil {
		return fmt.Errorf("blocklog: %w", err)
	}
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return fmt.Errorf("blocklog: block %d: %w", b.GetNumber(), err)
	}
	if len(payload) > MaxRecord {
		return fmt.Errorf("blocklog: block %d is %d bytes, above %d", b.GetNumber(), len(payload), MaxRecord)
	}
	rec := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(payload, castagnoli))
	copy(rec[headerSize:], payload)
	_, err = l.f.WriteAt(rec, off)
	if err == nil {
		err = l.f.Sync()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		_ = l.f.Truncate(off) // best effort; recovery cuts the tail anyway
		l.broken = fmt.Errorf("blocklog: %s: block %d at offset %d: %w (log stopped; restart to recover)", l.path, b.GetNumber(), off, err)
		return l.broken
	}
	l.offsets = append(l.offsets, off)
	l.size = off + int64(len(rec))
	l.lastHash = b.GetHash()
	l.txs += uint64(len(b.GetTxs()))
	return nil
}

// Read returns block number from the disk, checksum verified.
func (l *Log) Read(number uint64) (*pb.Block, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, ErrClosed
	}
	if number == 0 || number > uint64(len(l.offsets)) {
		return nil, fmt.Errorf("%w: block %d, log holds 1..%d", ErrOutOfRange, number, len(l.offsets))
	}
	off, end := l.offsets[number-1], l.size
	if number < uint64(len(l.offsets)) {
		end = l.offsets[number]
	}
	rec := make([]byte, end-off)
	if _, err := l.f.ReadAt(rec, off); err != nil {
		return nil, fmt.Errorf("blocklog: %s: offset %d: %w", l.path, off, err)
	}
	payload := rec[headerSize:]
	if got, want := crc32.Checksum(payload, castagnoli), binary.LittleEndian.Uint32(rec[4:8]); got != want {
		return nil, l.corrupt(off, int(number), "checksum %08x, want %08x", got, want)
	}
	b := &pb.Block{}
	if err := proto.Unmarshal(payload, b); err != nil {
		return nil, l.corrupt(off, int(number), "undecodable block: %v", err)
	}
	return b, nil
}

// Tail is the newest n blocks, oldest first.
func (l *Log) Tail(n int) ([]*pb.Block, error) {
	last := l.Len()
	first := uint64(1)
	if uint64(n) < last {
		first = last - uint64(n) + 1
	}
	var out []*pb.Block
	for i := first; i <= last && n > 0; i++ {
		b, err := l.Read(i)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Len is the number of blocks, which is also the newest block's number.
func (l *Log) Len() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return uint64(len(l.offsets))
}

// Txs is how many transactions the blocks hold between them.
func (l *Log) Txs() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.txs
}

// Truncated is how many bytes of torn tail Open cut off.
func (l *Log) Truncated() int64 { return l.truncated }

// Path is the log file's path.
func (l *Log) Path() string { return l.path }

// Close closes the file; it waits for an Append in progress.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.f.Close()
}
