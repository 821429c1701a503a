package redact

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testKey is fixed so placeholders in golden files are reproducible.
var testKey = []byte("reprise-test-key-0123456789abcdef")

func newTestRedactor(t testing.TB) *Redactor {
	t.Helper()
	p := DefaultPolicy()
	p.Key = testKey
	r, err := New(p)
	require.NoError(t, err)
	return r
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func gunzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}

func hdr(name string, values ...string) *rprpb.Header {
	return &rprpb.Header{Name: name, Values: values}
}

func headerValues(hs []*rprpb.Header, name string) []string {
	for _, h := range hs {
		if h.Name == name {
			return h.Values
		}
	}
	return nil
}
