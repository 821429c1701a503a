package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Writer appends records to a recording. It is safe for concurrent use, but a
// single goroutine feeding it keeps records in a stable order.
type Writer struct {
	mu        sync.Mutex
	w         io.Writer
	closer    io.Closer
	blockSize int
	codec     Codec
	enc       *zstd.Encoder
	raw       []byte // records of the open block
	comp      []byte
	scratch   []byte
	pending   int // records in the open block
	stats     WriterStats
	err       error // sticky write error
	closed    bool
}

// WriterStats counts what a Writer has done.
type WriterStats struct {
	Records      int64 // records accepted
	Blocks       int64 // blocks written
	RawBytes     int64 // record bytes before compression
	WrittenBytes int64 // bytes written to the underlying writer, header included
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// BlockSize sets the uncompressed size at which a block is closed and written.
func BlockSize(n int) WriterOption {
	return func(w *Writer) {
		if n > 0 && n <= MaxBlockSize {
			w.blockSize = n
		}
	}
}

// Compression selects the block codec (zstd by default).
func Compression(c Codec) WriterOption { return func(w *Writer) { w.codec = c } }

// NewWriter writes the magic and the header to w and returns a Writer that
// appends records after them. A nil header gets a default one; a zero
// created time and format version are filled in.
func NewWriter(w io.Writer, hdr *rprpb.FileHeader, opts ...WriterOption) (*Writer, error) {
	rw := &Writer{w: w, blockSize: DefaultBlockSize, codec: CodecZstd}
	for _, o := range opts {
		o(rw)
	}
	switch rw.codec {
	case CodecNone:
	case CodecZstd:
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("recording: zstd encoder: %w", err)
		}
		rw.enc = enc
	default:
		return nil, fmt.Errorf("recording: unknown codec %v", rw.codec)
	}
	if hdr == nil {
		hdr = &rprpb.FileHeader{}
	} else {
		hdr = proto.Clone(hdr).(*rprpb.FileHeader)
	}
	if hdr.FormatVersion == 0 {
		hdr.FormatVersion = FormatVersion
	}
	if hdr.CreatedUnixNano == 0 {
		hdr.CreatedUnixNano = time.Now().UnixNano()
	}
	hb, err := proto.Marshal(hdr)
	if err != nil {
		return nil, fmt.Errorf("recording: encode header: %w", err)
	}
	buf := append([]byte(nil), Magic[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(hb)))
	buf = append(buf, hb...)
	buf = binary.LittleEndian.AppendUint32(buf, checksum(hb))
	if err := rw.write(buf); err != nil {
		return nil, err
	}
	return rw, nil
}

// Create creates (or truncates) the file at path and returns a Writer on it.
// Close closes the file; Sync flushes the open block and fsyncs.
func Create(path string, hdr *rprpb.FileHeader, opts ...WriterOption) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return NewFileWriter(f, hdr, opts...)
}

// NewFileWriter is NewWriter on a file opened by the caller, which the
// Writer then owns as Create's does: Close syncs and closes it, and it is
// closed when NewFileWriter fails. Opening the file and making the writer
// can so happen at different times (a replay opens its results file
// before its clock starts and makes the writer, with the clock's anchor in
// its header, after).
func NewFileWriter(f *os.File, hdr *rprpb.FileHeader, opts ...WriterOption) (*Writer, error) {
	w, err := NewWriter(f, hdr, opts...)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.closer = f
	return w, nil
}

// Write appends one record to the open block, writing the block out when it
// reaches the block size.
func (w *Writer) Write(rec *rprpb.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("recording: write after close")
	}
	if w.err != nil {
		return w.err
	}
	var err error
	w.scratch, err = proto.MarshalOptions{}.MarshalAppend(w.scratch[:0], rec)
	if err != nil {
		return fmt.Errorf("recording: encode record: %w", err)
	}
	w.raw = binary.AppendUvarint(w.raw, uint64(len(w.scratch)))
	w.raw = binary.LittleEndian.AppendUint32(w.raw, checksum(w.scratch))
	w.raw = append(w.raw, w.scratch...)
	w.pending++
	w.stats.Records++
	w.stats.RawBytes += int64(len(w.scratch))
	if len(w.raw) >= w.blockSize {
		return w.flushLocked()
	}
	return nil
}

// Flush writes the open block, if any. Records are durable against a crash of
// this process once their block is flushed; Sync also survives a host crash.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

// Sync flushes the open block and fsyncs the underlying file when it has a
// Sync method.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	if s, ok := w.w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("recording: sync: %w", err)
		}
	}
	return nil
}

// Stats returns what the writer has done so far.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Close flushes the open block and closes the file it was created on. It is
// safe to call more than once.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flushLocked()
	if err == nil {
		err = w.writeTrailer()
	}
	if s, ok := w.w.(interface{ Sync() error }); ok && err == nil && w.closer != nil {
		if serr := s.Sync(); serr != nil {
			err = fmt.Errorf("recording: sync: %w", serr)
		}
	}
	if w.enc != nil {
		w.enc.Close()
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("recording: close: %w", cerr)
		}
	}
	return err
}

func (w *Writer) flushLocked() error {
	if w.err != nil {
		return w.err
	}
	if w.pending == 0 {
		return nil
	}
	payload := w.raw
	if w.codec == CodecZstd {
		w.comp = w.enc.EncodeAll(w.raw, w.comp[:0])
		payload = w.comp
	}
	hdr := make([]byte, 0, 4+1+2*binary.MaxVarintLen64+4)
	hdr = append(hdr, blockMagic[:]...)
	hdr = append(hdr, byte(w.codec))
	hdr = binary.AppendUvarint(hdr, uint64(len(w.raw)))
	hdr = binary.AppendUvarint(hdr, uint64(len(payload)))
	hdr = binary.LittleEndian.AppendUint32(hdr, checksum(payload))
	// One write per block keeps a torn write to a single block.
	block := append(hdr, payload...)
	if err := w.write(block); err != nil {
		return err
	}
	w.stats.Blocks++
	w.raw = w.raw[:0]
	w.pending = 0
	return nil
}

// writeTrailer marks a clean end: the end magic, the record count and its
// checksum.
func (w *Writer) writeTrailer() error {
	count := binary.AppendUvarint(nil, uint64(w.stats.Records))
	t := append(endMagic[:0:0], endMagic[:]...)
	t = append(t, count...)
	t = binary.LittleEndian.AppendUint32(t, checksum(count))
	return w.write(t)
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.stats.WrittenBytes += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("recording: write: %w", err)
		return w.err
	}
	return nil
}
