package recording_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func exchange(i int) *rprpb.Record {
	return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: &rprpb.Exchange{
		Id:       uint64(i),
		Session:  fmt.Sprintf("s%d", i%7),
		Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
		StartNs:  int64(i) * 1000,
		EndNs:    int64(i)*1000 + 500,
		Request: &rprpb.Request{
			Method: "GET", Path: fmt.Sprintf("/v1/items/%d", i),
			Headers: []*rprpb.Header{{Name: "Accept", Values: []string{"application/json"}}},
		},
		Response: &rprpb.Response{Status: 200, Body: &rprpb.Body{Data: []byte(fmt.Sprintf(`{"id":%d}`, i)), Size: 8}},
	}}}
}

func writeAll(t testing.TB, n int, opts ...recording.WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := recording.NewWriter(&buf, &rprpb.FileHeader{Recorder: "test"}, opts...)
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		require.NoError(t, w.Write(exchange(i)))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func readAll(data []byte) ([]*rprpb.Record, error) {
	r, err := recording.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*rprpb.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, codec := range []recording.Codec{recording.CodecZstd, recording.CodecNone} {
		t.Run(codec.String(), func(t *testing.T) {
			data := writeAll(t, 1000, recording.Compression(codec), recording.BlockSize(4096))
			r, err := recording.NewReader(bytes.NewReader(data))
			require.NoError(t, err)
			assert.Equal(t, "test", r.Header().Recorder)
			assert.EqualValues(t, recording.FormatVersion, r.Header().FormatVersion)
			assert.NotZero(t, r.Header().CreatedUnixNano)
			i := 0
			for rec, err := range r.All() {
				require.NoError(t, err)
				require.True(t, proto.Equal(exchange(i), rec), "record %d differs", i)
				i++
			}
			assert.Equal(t, 1000, i)
		})
	}
}

func TestEmptyRecording(t *testing.T) {
	data := writeAll(t, 0)
	recs, err := readAll(data)
	require.NoError(t, err)
	assert.Empty(t, recs)
}

func TestNotARecording(t *testing.T) {
	for name, in := range map[string][]byte{"empty": nil, "text": []byte("GET / HTTP/1.1\r\n\r\n")} {
		_, err := recording.NewReader(bytes.NewReader(in), recording.Name("x.rpr"))
		require.ErrorIs(t, err, recording.ErrNotRecording, name)
		assert.Contains(t, err.Error(), "x.rpr")
	}
}

func TestNewerVersionRefused(t *testing.T) {
	var buf bytes.Buffer
	_, err := recording.NewWriter(&buf, &rprpb.FileHeader{FormatVersion: recording.FormatVersion + 1})
	require.NoError(t, err)
	_, err = recording.NewReader(&buf)
	require.ErrorIs(t, err, recording.ErrVersion)
}

// Cutting the file at every byte offset must read back every record of every
// complete block, then report a truncation, never a panic or a wrong record.
// Uncompressed blocks are cut at every offset; zstd blocks at a stride, since
// each read builds a decoder.
func TestTruncatedAtEveryOffset(t *testing.T) {
	for _, tc := range []struct {
		codec  recording.Codec
		n      int
		stride int
	}{{recording.CodecNone, 24, 1}, {recording.CodecZstd, 60, 7}} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			n := tc.n
			data := writeAll(t, n, recording.BlockSize(300), recording.Compression(tc.codec))
			full, err := readAll(data)
			require.NoError(t, err)
			require.Len(t, full, n)
			prev := 0
			for cut := 0; cut < len(data); cut += tc.stride {
				recs, err := readAll(data[:cut])
				require.Error(t, err, "cut at %d must be reported", cut)
				if !errors.Is(err, recording.ErrNotRecording) {
					require.ErrorIs(t, err, recording.ErrTruncated, "cut at %d", cut)
					var pe *recording.PositionError
					require.ErrorAs(t, err, &pe)
					assert.LessOrEqual(t, pe.Offset, int64(cut))
					assert.EqualValues(t, len(recs), pe.Records)
				}
				require.GreaterOrEqual(t, len(recs), prev, "a longer prefix never yields fewer records")
				prev = len(recs)
				for i, rec := range recs {
					require.True(t, proto.Equal(full[i], rec))
				}
			}
			assert.Greater(t, prev, n/2, "most records precede the last block")
		})
	}
}

// A damaged block in the middle is reported and skipped; the rest survives.
func TestCorruptBlockIsSkipped(t *testing.T) {
	const n = 200
	data := writeAll(t, n, recording.BlockSize(1000))
	mid := len(data) / 2
	data[mid] ^= 0xff
	r, err := recording.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	var got, corrupt int
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			require.ErrorIs(t, err, recording.ErrCorrupt)
			corrupt++
			require.Less(t, corrupt, 10)
			continue
		}
		got++
	}
	assert.Equal(t, 1, corrupt)
	assert.Less(t, got, n)
	assert.Greater(t, got, n*3/4)
}

// A writer process killed with SIGKILL leaves a file from which every
// flushed record reads back.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "killed.rpr")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
	cmd.Env = append(os.Environ(), "REPRISE_HELPER_WRITER="+path)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	flushed := 0
	for sc.Scan() {
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			flushed = n
		}
		if flushed >= 500 {
			break
		}
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.GreaterOrEqual(t, flushed, 500, "helper did not report progress")

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := readAll(data)
	if err != nil {
		require.ErrorIs(t, err, recording.ErrTruncated)
	}
	require.GreaterOrEqual(t, len(recs), flushed)
	for i, rec := range recs {
		require.EqualValues(t, i, rec.GetExchange().GetId())
	}
}

// TestHelperWriter is the child of TestKilledWriter: it writes until killed,
// printing how many records are flushed, and gives up by itself after a
// bounded number of records.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("REPRISE_HELPER_WRITER")
	if path == "" {
		t.Skip("helper process only")
	}
	w, err := recording.Create(path, nil, recording.BlockSize(512))
	require.NoError(t, err)
	for i := 0; i < 2_000_000; i++ {
		require.NoError(t, w.Write(exchange(i)))
		if i%3 == 2 {
			require.NoError(t, w.Flush())
			fmt.Println(i + 1)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(writeAll(f, 3, recording.BlockSize(100)))
	f.Add(writeAll(f, 0))
	f.Add(writeAll(f, 5, recording.Compression(recording.CodecNone)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := recording.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			_, err := r.Next()
			if errors.Is(err, io.EOF) || errors.Is(err, recording.ErrTruncated) {
				return
			}
			if err != nil && !errors.Is(err, recording.ErrCorrupt) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
	})
}

// A tiny file whose block header claims the maximum sizes must not make the
// reader allocate them.
func TestLyingBlockHeaderCostsLittle(t *testing.T) {
	data := writeAll(t, 0)
	data = data[:len(data)-9] // drop the trailer ("RPRE", count 0, crc)
	data = append(data, 'R', 'P', 'R', 'B', byte(recording.CodecZstd))
	data = binary.AppendUvarint(data, recording.MaxBlockSize) // raw
	data = binary.AppendUvarint(data, recording.MaxBlockSize) // compressed
	data = append(data, 0, 0, 0, 0)
	data = append(data, bytes.Repeat([]byte{0xAB}, 500)...)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := readAll(data)
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, recording.ErrTruncated)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
}

// TestNewFileWriterOwnsTheFile: the Writer closes the file it was given,
// on Close and when it cannot be made.
func TestNewFileWriterOwnsTheFile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "bad.rpr"))
	require.NoError(t, err)
	_, err = recording.NewFileWriter(f, &rprpb.FileHeader{FormatVersion: recording.FormatVersion}, recording.Compression(recording.Codec(99)))
	require.Error(t, err)
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrClosed, "a writer that could not be made closed its file")

	f, err = os.Create(filepath.Join(dir, "good.rpr"))
	require.NoError(t, err)
	w, err := recording.NewFileWriter(f, &rprpb.FileHeader{FormatVersion: recording.FormatVersion})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrClosed, "Close closed the file")
	rd, err := recording.Open(filepath.Join(dir, "good.rpr"))
	require.NoError(t, err)
	require.NoError(t, rd.Close())
}
