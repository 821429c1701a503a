package recording

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Reader reads records back from a recording, one block in memory at a time.
type Reader struct {
	name    string
	br      *bufio.Reader
	closer  io.Closer
	hdr     *rprpb.FileHeader
	dec     *zstd.Decoder
	off     int64 // bytes consumed from the input
	block   []byte
	comp    []byte
	pos     int // next record in block
	records int64
	written int64 // record count from the end marker, -1 until seen
	done    bool
	resync  bool // the last block was corrupt: scan for the next block magic
}

// ReaderOption configures a Reader.
type ReaderOption func(*Reader)

// Name sets the file name used in error messages.
func Name(name string) ReaderOption { return func(r *Reader) { r.name = name } }

// NewReader reads and checks the magic and the header.
func NewReader(r io.Reader, opts ...ReaderOption) (*Reader, error) {
	rr := &Reader{br: bufio.NewReaderSize(r, 64<<10), written: -1}
	for _, o := range opts {
		o(rr)
	}
	var magic [8]byte
	if n, err := io.ReadFull(rr.br, magic[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, rr.fail(0, "empty input", ErrNotRecording)
		}
		return nil, rr.fail(0, "reading magic", ErrNotRecording)
	}
	if magic != Magic {
		return nil, rr.fail(0, "bad magic", ErrNotRecording)
	}
	rr.off = int64(len(magic))
	n, err := binary.ReadUvarint(rr.br)
	if err != nil {
		return nil, rr.fail(rr.off, "header length", ErrTruncated)
	}
	if n > maxHeaderSize {
		return nil, rr.fail(rr.off, fmt.Sprintf("header length %d over %d", n, maxHeaderSize), ErrCorrupt)
	}
	hb := make([]byte, n+4)
	if _, err := io.ReadFull(rr.br, hb); err != nil {
		return nil, rr.fail(rr.off, "header", ErrTruncated)
	}
	if checksum(hb[:n]) != binary.LittleEndian.Uint32(hb[n:]) {
		return nil, rr.fail(rr.off, "header checksum", ErrCorrupt)
	}
	rr.hdr = &rprpb.FileHeader{}
	if err := proto.Unmarshal(hb[:n], rr.hdr); err != nil {
		return nil, rr.fail(rr.off, "header: "+err.Error(), ErrCorrupt)
	}
	if rr.hdr.FormatVersion > FormatVersion {
		return nil, rr.fail(rr.off, fmt.Sprintf("format version %d, this build reads up to %d", rr.hdr.FormatVersion, FormatVersion), ErrVersion)
	}
	rr.off += int64(uvarintLen(n)) + int64(len(hb))
	return rr, nil
}

// Open opens the recording at path. Close closes the file.
func Open(path string, opts ...ReaderOption) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r, err := NewReader(f, append([]ReaderOption{Name(path)}, opts...)...)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// Header returns the file header.
func (r *Reader) Header() *rprpb.FileHeader { return r.hdr }

// Offset returns how many input bytes have been consumed.
func (r *Reader) Offset() int64 { return r.off }

// Close releases the decoder and closes the file Open opened.
func (r *Reader) Close() error {
	if r.dec != nil {
		r.dec.Close()
		r.dec = nil
	}
	if r.closer != nil {
		c := r.closer
		r.closer = nil
		return c.Close()
	}
	return nil
}

// Next returns the next record, or io.EOF after the last one. Damage is
// reported as a *PositionError wrapping ErrTruncated (nothing follows it) or
// ErrCorrupt; after a corrupt block, calling Next again skips to the next
// intact block, so a caller can salvage everything that survived.
func (r *Reader) Next() (*rprpb.Record, error) {
	for {
		if r.pos < len(r.block) {
			return r.decodeRecord()
		}
		if r.done {
			return nil, io.EOF
		}
		if err := r.readBlock(); err != nil {
			return nil, err
		}
	}
}

// All iterates over the records; iteration stops after the first error.
func (r *Reader) All() iter.Seq2[*rprpb.Record, error] {
	return func(yield func(*rprpb.Record, error) bool) {
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

func (r *Reader) decodeRecord() (*rprpb.Record, error) {
	b := r.block[r.pos:]
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < 4 || n > uint64(len(b)-k-4) {
		r.pos = len(r.block)
		return nil, r.fail(r.off, "record length inside block", ErrCorrupt)
	}
	sum := binary.LittleEndian.Uint32(b[k:])
	data := b[k+4 : k+4+int(n)]
	r.pos += k + 4 + int(n)
	if checksum(data) != sum {
		return nil, r.fail(r.off, "record checksum", ErrCorrupt)
	}
	rec := &rprpb.Record{}
	if err := proto.Unmarshal(data, rec); err != nil {
		return nil, r.fail(r.off, "record: "+err.Error(), ErrCorrupt)
	}
	r.records++
	return rec, nil
}

// readBlock loads the next block into r.block. At a clean end of input it
// sets r.done and returns nil.
func (r *Reader) readBlock() error {
	r.block, r.pos = r.block[:0], 0
	if r.resync {
		if err := r.skipToMagic(); err != nil {
			return err
		}
		r.resync = false
	}
	start := r.off
	var magic [4]byte
	n, err := io.ReadFull(r.br, magic[:])
	if n == 0 && errors.Is(err, io.EOF) {
		r.done = true
		return r.fail(start, "no end marker: the writer did not close the file", ErrTruncated)
	}
	if err != nil {
		r.done = true
		return r.fail(start, "block header", ErrTruncated)
	}
	if magic == endMagic {
		r.off += int64(n)
		return r.readTrailer(start)
	}
	if magic != blockMagic {
		r.resync = true
		r.off += int64(n)
		return r.fail(start, "bad block magic", ErrCorrupt)
	}
	cr := &countingByteReader{r: r.br}
	codecB, err := cr.ReadByte()
	if err != nil {
		r.done = true
		return r.fail(start, "block header", ErrTruncated)
	}
	rawLen, err1 := binary.ReadUvarint(cr)
	compLen, err2 := binary.ReadUvarint(cr)
	var sumb [4]byte
	_, err3 := io.ReadFull(r.br, sumb[:])
	if err := errors.Join(err1, err2, err3); err != nil {
		r.done = true
		return r.fail(start, "block header", ErrTruncated)
	}
	r.off += 4 + int64(cr.n) + 4
	if rawLen > MaxBlockSize || compLen > MaxBlockSize {
		r.resync = true
		return r.fail(start, fmt.Sprintf("block size raw %d compressed %d over limit %d", rawLen, compLen, MaxBlockSize), ErrCorrupt)
	}
	if m, err := r.readPayload(int(compLen)); err != nil {
		r.off += int64(m)
		r.done = true
		return r.fail(start, fmt.Sprintf("block payload: have %d of %d bytes", m, compLen), ErrTruncated)
	}
	r.off += int64(compLen)
	if checksum(r.comp) != binary.LittleEndian.Uint32(sumb[:]) {
		r.resync = true
		return r.fail(start, "block checksum", ErrCorrupt)
	}
	switch Codec(codecB) {
	case CodecNone:
		r.block = append(r.block, r.comp...)
	case CodecZstd:
		if r.dec == nil {
			r.dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxBlockSize))
			if err != nil {
				return fmt.Errorf("recording: zstd decoder: %w", err)
			}
		}
		if err := r.decompress(rawLen); err != nil {
			return r.fail(start, "block decompression: "+err.Error(), ErrCorrupt)
		}
	default:
		return r.fail(start, fmt.Sprintf("unknown codec %d", codecB), ErrCorrupt)
	}
	if uint64(len(r.block)) != rawLen {
		r.block = r.block[:0]
		return r.fail(start, fmt.Sprintf("block decompressed to %d bytes, header says %d", len(r.block), rawLen), ErrCorrupt)
	}
	return nil
}

// readTrailer checks the end marker. The count it carries is what the writer
// wrote, so a reader that skipped a corrupt block can tell how much is lost.
func (r *Reader) readTrailer(start int64) error {
	r.done = true
	cr := &countingByteReader{r: r.br}
	count, err := binary.ReadUvarint(cr)
	var sumb [4]byte
	if err == nil {
		_, err = io.ReadFull(r.br, sumb[:])
	}
	if err != nil {
		return r.fail(start, "end marker", ErrTruncated)
	}
	r.off += int64(cr.n) + 4
	if checksum(binary.AppendUvarint(nil, count)) != binary.LittleEndian.Uint32(sumb[:]) {
		return r.fail(start, "end marker checksum", ErrCorrupt)
	}
	r.written = int64(count)
	return nil
}

// Complete reports, after Next has returned io.EOF, whether the file ended
// with the writer's end marker and every record it counted was read back.
func (r *Reader) Complete() bool { return r.done && r.written == r.records }

// eagerLimit is the largest size taken on trust from a block header. Above
// it, buffers grow only as bytes really arrive, so a short hostile file that
// claims a huge block costs no more memory than its real size.
const eagerLimit = 4 << 20

// readPayload reads n bytes into r.comp and returns how many it got.
func (r *Reader) readPayload(n int) (int, error) {
	if n <= eagerLimit || cap(r.comp) >= n {
		r.comp = grow(r.comp, n)
		return io.ReadFull(r.br, r.comp)
	}
	buf := bytes.NewBuffer(r.comp[:0])
	got, err := io.CopyN(buf, r.br, int64(n))
	r.comp = buf.Bytes()
	if err != nil && errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return int(got), err
}

// decompress inflates r.comp into r.block. Large claimed sizes are inflated
// as a stream, for the same reason readPayload grows as it reads.
func (r *Reader) decompress(rawLen uint64) error {
	if rawLen <= eagerLimit {
		var err error
		r.block, err = r.dec.DecodeAll(r.comp, r.block[:0])
		return err
	}
	if err := r.dec.Reset(bytes.NewReader(r.comp)); err != nil {
		return err
	}
	buf := bytes.NewBuffer(r.block[:0])
	// One byte more than claimed, so that a lying header is caught.
	_, err := io.CopyN(buf, r.dec, int64(rawLen)+1)
	r.block = buf.Bytes()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// skipToMagic advances to the next block magic, or to the end.
func (r *Reader) skipToMagic() error {
	for {
		peek, err := r.br.Peek(len(blockMagic))
		if len(peek) < len(blockMagic) {
			r.off += int64(len(peek))
			r.br.Discard(len(peek))
			r.done = true
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("recording: %w", err)
			}
			return nil
		}
		if bytes.Equal(peek, blockMagic[:]) || bytes.Equal(peek, endMagic[:]) {
			return nil
		}
		r.br.Discard(1)
		r.off++
	}
}

func (r *Reader) fail(off int64, reason string, err error) error {
	return &PositionError{Name: r.name, Offset: off, Records: r.records, Reason: reason, Err: err}
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

type countingByteReader struct {
	r *bufio.Reader
	n int
}

func (c *countingByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
