package redact

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

const gib = 1 << 30

// zeros is an endless reader of zero bytes, so bombs are built streaming.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// gzipBomb inflates to 1 GiB of zeros. It is one gzip member of 8 MiB of
// zeros repeated: gzip readers decode concatenated members as one stream,
// and building it costs 8 MiB of compression, not 1 GiB.
func gzipBomb(t *testing.T) []byte {
	const member = 8 << 20
	var m bytes.Buffer
	w, err := gzip.NewWriterLevel(&m, gzip.BestCompression)
	require.NoError(t, err)
	_, err = io.CopyN(w, zeros{}, member)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return bytes.Repeat(m.Bytes(), gib/member)
}

// deflateBomb is a single raw-deflate stream that inflates to 1 GiB of
// zeros. After a flush the stream is byte-aligned and the window holds only
// zeros, so the segment that encodes 8 MiB of zeros can be repeated.
func deflateBomb(t *testing.T) []byte {
	const segment = 8 << 20
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	_, err = io.CopyN(w, zeros{}, 64<<10)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	prefix := bytes.Clone(buf.Bytes())
	buf.Reset()
	_, err = io.CopyN(w, zeros{}, segment)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	seg := bytes.Clone(buf.Bytes())
	buf.Reset()
	require.NoError(t, w.Close())
	out := append(prefix, bytes.Repeat(seg, gib/segment)...)
	return append(out, buf.Bytes()...)
}

// zstdBomb inflates to 1 GiB: zstd frames concatenate like gzip members.
func zstdBomb(t *testing.T) []byte {
	const frame = 8 << 20
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	require.NoError(t, err)
	defer enc.Close()
	one := enc.EncodeAll(make([]byte, frame), nil)
	return bytes.Repeat(one, gib/frame)
}

// allocated reports the bytes allocated while f runs. TotalAlloc only grows,
// so the figure does not depend on when the collector runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestBodyBombIsDroppedWithBoundedMemory(t *testing.T) {
	r := newTestRedactor(t)
	for _, tc := range []struct {
		encoding string
		build    func(*testing.T) []byte
	}{
		{"gzip", gzipBomb},
		{"deflate", deflateBomb},
		{"zstd", zstdBomb},
	} {
		t.Run(tc.encoding, func(t *testing.T) {
			data := tc.build(t)
			t.Logf("%s bomb: %d compressed bytes", tc.encoding, len(data))
			require.Less(t, len(data), 4<<20, "the bomb must be small on the wire")
			body := &rprpb.Body{Data: data, Size: int64(len(data))}
			used := allocated(func() { r.Body("application/json", tc.encoding, body) })
			t.Logf("%s bomb: %d bytes allocated", tc.encoding, used)
			assert.Nil(t, body.Data)
			assert.True(t, body.Truncated)
			assert.Equal(t, int64(len(data)), body.Size)
			// Decoding stops at MaxDecodedBody; growing a buffer to it by
			// doubling costs about twice that, plus decoder state.
			assert.Less(t, used, uint64(4*MaxDecodedBody), "memory must stay bounded")
		})
	}
}

// A compressed body that inflates within its cap is redacted, not dropped.
func TestBodyLargeButLegitimateGzip(t *testing.T) {
	r := newTestRedactor(t)
	var doc bytes.Buffer
	doc.WriteString(`{"token":"big-secret","rows":[`)
	for i := range 20000 {
		if i > 0 {
			doc.WriteByte(',')
		}
		doc.WriteString(`{"id":1234,"name":"row"}`)
	}
	doc.WriteString(`]}`)
	body := &rprpb.Body{Data: gzipBytes(t, doc.Bytes())}
	require.Less(t, doc.Len(), decodeLimit(len(body.Data)))
	r.Body("application/json", "gzip", body)
	require.NotNil(t, body.Data)
	out := gunzipBytes(t, body.Data)
	assert.NotContains(t, string(out), "big-secret")
	assert.Equal(t, doc.Len()-len("big-secret")+len(r.Placeholder("x")), len(out))
}
