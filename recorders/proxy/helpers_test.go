package proxy_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/testcert"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testCtx bounds a test's network calls.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// h1Client is an HTTP/1.1 client that closes its connections with the test.
func h1Client(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// h2cClient speaks HTTP/2 with prior knowledge.
func h2cClient(t testing.TB) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// h2TLSClient speaks HTTP/2 over TLS, trusting pool.
func h2TLSClient(t testing.TB, pool *x509.CertPool) *http.Client {
	var p http.Protocols
	p.SetHTTP2(true)
	tr := &http.Transport{Protocols: &p, DisableCompression: true, TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// reply is what a client got, for comparing direct and proxied requests.
type reply struct {
	Status   int
	Proto    string
	Header   http.Header
	Body     []byte
	Trailer  http.Header
	Chunked  bool
	Length   int64
	Received time.Time
}

func do(t testing.TB, c *http.Client, req *http.Request) reply {
	t.Helper()
	r, err := tryDo(c, req)
	require.NoError(t, err)
	return r
}

// tryDo is do for a goroutine other than the test's, where a failure must be
// reported rather than end the goroutine (FailNow would).
func tryDo(c *http.Client, req *http.Request) (reply, error) {
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	h := resp.Header.Clone()
	h.Del("Date") // the one header that changes between two requests
	return reply{
		Status: resp.StatusCode, Proto: resp.Proto, Header: h, Body: body, Trailer: resp.Trailer,
		Chunked: len(resp.TransferEncoding) > 0, Length: resp.ContentLength,
	}, nil
}

func newReq(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), method, url, body)
	require.NoError(t, err)
	return req
}

// header finds a recorded header's values.
func header(hs []*rprpb.Header, name string) []string {
	for _, h := range hs {
		if http.CanonicalHeaderKey(h.Name) == http.CanonicalHeaderKey(name) {
			return h.Values
		}
	}
	return nil
}

// assertTimings checks the offsets of one exchange.
func assertTimings(t testing.TB, ex *rprpb.Exchange) {
	t.Helper()
	assert.Positive(t, ex.StartNs, "start")
	assert.LessOrEqual(t, ex.StartNs, ex.FirstByteNs, "start <= first byte")
	assert.LessOrEqual(t, ex.FirstByteNs, ex.EndNs, "first byte <= end")
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	c := testcert.Loopback(t)
	certFile, keyFile = c.WriteFiles(t, t.TempDir())
	return certFile, keyFile, c.Pool()
}

// pattern is a deterministic body of n bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// chunkedReader hides the length of b so the client sends it chunked.
type chunkedReader struct{ r io.Reader }

func (c chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func chunked(b []byte) io.Reader { return chunkedReader{bytes.NewReader(b)} }
