package redact

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

const (
	// MaxDecodedBody is the hard cap on a decompressed body. A body that
	// inflates beyond its limit is dropped, so a gzip bomb costs at most
	// this much memory per call.
	MaxDecodedBody = 8 << 20
	// maxRatio bounds decompression relative to the captured size...
	maxRatio = 16
	// ...but never below minDecodeLimit: small JSON documents compress far
	// better than 16:1, and dropping them would lose ordinary traffic.
	minDecodeLimit = 1 << 20
)

// Sentinel errors for bodies that cannot be decoded; they are only ever
// seen in tests, since Body fails closed instead of returning them.
var (
	errUnknownEncoding = errors.New("unknown content encoding")
	errTooLarge        = errors.New("decoded body over the cap")
)

// decodeLimit is the most a body captured as n bytes may inflate to.
func decodeLimit(n int) int {
	return min(MaxDecodedBody, max(maxRatio*n, minDecodeLimit))
}

// coding is one content coding as this package handles it. "deflate" is
// split in two because servers send both zlib-wrapped (RFC 9110) and raw
// deflate under that name, and the re-encoding must match.
type coding int

const (
	codingGzip coding = iota
	codingZlib
	codingRawDeflate
	codingZstd
)

// parseCodings lists the codings of a Content-Encoding value in the order
// they were applied. identity is dropped.
func parseCodings(contentEncoding string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(contentEncoding, ",") {
		switch c = strings.ToLower(strings.TrimSpace(c)); c {
		case "", "identity":
		case "gzip", "x-gzip", "deflate", "zstd":
			out = append(out, c)
		default:
			return nil, fmt.Errorf("%w %q", errUnknownEncoding, c)
		}
	}
	return out, nil
}

// decodeAll undoes codings (applied in order) and returns the plain bytes
// and the exact codings to apply again.
func decodeAll(data []byte, names []string, limit int) ([]byte, []coding, error) {
	used := make([]coding, len(names))
	b := data
	for i := len(names) - 1; i >= 0; i-- {
		var err error
		b, used[i], err = decodeOne(b, names[i], limit)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", names[i], err)
		}
	}
	return b, used, nil
}

func decodeOne(b []byte, name string, limit int) ([]byte, coding, error) {
	switch name {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, 0, err
		}
		out, err := readLimited(zr, limit, 4*len(b))
		return out, codingGzip, err
	case "deflate":
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			out, err := readLimited(zr, limit, 4*len(b))
			if err == nil || errors.Is(err, errTooLarge) {
				return out, codingZlib, err
			}
			// A raw stream can start with bytes that pass for a zlib header.
		}
		fr := flate.NewReader(bytes.NewReader(b))
		defer fr.Close()
		out, err := readLimited(fr, limit, 4*len(b))
		return out, codingRawDeflate, err
	case "zstd":
		dec, err := getZstdDecoder(b)
		if err != nil {
			return nil, 0, err
		}
		defer putZstdDecoder(dec)
		out, err := readLimited(dec, limit, 4*len(b))
		return out, codingZstd, err
	}
	return nil, 0, fmt.Errorf("%w %q", errUnknownEncoding, name)
}

// readLimited reads all of rd, failing once more than limit bytes come out.
// It grows its buffer by doubling up to limit+1, so a body that hits the cap
// costs about twice the cap in allocations; append's gentler growth for
// large slices would cost about five times.
func readLimited(rd io.Reader, limit, sizeHint int) ([]byte, error) {
	buf := make([]byte, 0, min(limit+1, max(sizeHint, 512)))
	for empty := 0; ; {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if empty = (empty + 1) * btoi(n == 0); empty > 100 {
			return nil, io.ErrNoProgress
		}
		if len(buf) > limit {
			return nil, errTooLarge
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return nil, err
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// encodeAll applies codings in order.
func encodeAll(b []byte, codings []coding) ([]byte, error) {
	for _, c := range codings {
		var err error
		if b, err = encodeOne(b, c); err != nil {
			return nil, err
		}
	}
	return b, nil
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func encodeOne(b []byte, c coding) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch c {
	case codingGzip:
		gw := gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(gw)
		gw.Reset(&buf)
		w = gw
	case codingZlib:
		w = zlib.NewWriter(&buf)
	case codingRawDeflate:
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		w = fw
	case codingZstd:
		enc, err := zstdEncoder()
		if err != nil {
			return nil, err
		}
		return enc.EncodeAll(b, nil), nil
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zstd decoders stream through readLimited like the other codings, so the
// cap means the same thing for all of them. With a concurrency of 1 a
// decoder decodes synchronously and owns no goroutine, so a pooled decoder
// that the collector drops leaks nothing.
var zstdDecoders sync.Pool

func getZstdDecoder(b []byte) (*zstd.Decoder, error) {
	if d, ok := zstdDecoders.Get().(*zstd.Decoder); ok {
		if err := d.Reset(bytes.NewReader(b)); err != nil {
			return nil, err
		}
		return d, nil
	}
	return zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxMemory(MaxDecodedBody), zstd.WithDecoderLowmem(true))
}

func putZstdDecoder(d *zstd.Decoder) {
	if d.Reset(nil) == nil {
		zstdDecoders.Put(d)
	}
}

// The encoder is shared: EncodeAll is safe for concurrent use and the
// encoder is costly to build; used only through EncodeAll it starts no
// goroutine.
var zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
})
