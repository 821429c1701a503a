package proxy_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// h2cUpstream serves the test mux over cleartext HTTP/2 (and HTTP/1.1).
func h2cUpstream(t testing.TB, h http.Handler) *httptest.Server {
	up := httptest.NewUnstartedServer(h)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	up.Config.Protocols = &p
	up.Start()
	t.Cleanup(up.Close)
	return up
}

// protoMux reports the protocol the upstream saw, so a test can tell that
// the proxy kept the client's HTTP version.
func protoMux() http.Handler {
	mux := upstreamMux()
	mux.HandleFunc("/proto", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream-Proto", r.Proto)
		fmt.Fprintf(w, "%s %d", r.Proto, len(body))
	})
	return mux
}

func TestH2C(t *testing.T) {
	up := h2cUpstream(t, protoMux())
	run := proxytest.StartRun(t, up.URL, proxytest.BodyCap(64<<10))
	client := h2cClient(t)

	for _, c := range http1Cases() {
		send := func(base string) reply {
			var body io.Reader
			if c.body != nil {
				body = c.body()
			}
			req := newReq(t, c.method, base+c.path, body)
			for k, v := range c.header {
				req.Header[k] = v
			}
			return do(t, client, req)
		}
		direct, proxied := send(up.URL), send(run.URL)
		assert.Equal(t, "HTTP/2.0", proxied.Proto)
		assert.Equal(t, direct, proxied, "%s: same bytes through the proxy", c.name)
	}
	r := do(t, client, newReq(t, "POST", run.URL+"/proto", strings.NewReader("xyz")))
	assert.Equal(t, "HTTP/2.0 3", string(r.Body), "the upstream leg is HTTP/2 too")

	exs := run.Stop()
	require.Len(t, exs, len(http1Cases())+1)
	var streams []uint32
	for _, ex := range exs {
		assert.Equal(t, rprpb.Protocol_PROTOCOL_H2C, ex.Protocol)
		assert.Equal(t, "HTTP/2.0", ex.Request.Proto)
		assert.Equal(t, exs[0].ConnectionId, ex.ConnectionId, "one client connection")
		assertTimings(t, ex)
		streams = append(streams, ex.StreamId)
	}
	slices.Sort(streams)
	for i, s := range streams {
		assert.EqualValues(t, 2*i+1, s, "client streams are numbered 1, 3, 5, ...")
	}
	big := findExchange(t, exs, "GET", "/big")
	assert.True(t, big.Response.Body.Truncated)
	assert.EqualValues(t, bigSize, big.Response.Body.Size)
	tr := findExchange(t, exs, "GET", "/trailer")
	assert.Equal(t, []string{"abc123"}, header(tr.Response.Trailers, "X-Checksum"))
	ch := findExchange(t, exs, "POST", "/chunked")
	assert.Equal(t, pattern(10000), ch.Request.Body.Data)
}

func TestH2CConcurrentStreams(t *testing.T) {
	up := h2cUpstream(t, protoMux())
	run := proxytest.StartRun(t, up.URL)
	client := h2cClient(t)
	// One request first, so the concurrent ones share its connection.
	do(t, client, newReq(t, "GET", run.URL+"/echo?warm", nil))
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := do(t, client, newReq(t, "GET", fmt.Sprintf("%s/echo?i=%d", run.URL, i), nil))
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, fmt.Sprintf("i=%d", i), r.Header.Get("X-Query"))
		})
	}
	wg.Wait()
	exs := run.Stop()
	require.Len(t, exs, n+1)
	perConn := map[uint64][]uint32{}
	for _, ex := range exs {
		perConn[ex.ConnectionId] = append(perConn[ex.ConnectionId], ex.StreamId)
	}
	for id, ss := range perConn {
		slices.Sort(ss)
		for i, s := range ss {
			assert.EqualValues(t, 2*i+1, s, "connection %d: distinct odd stream IDs", id)
		}
	}
}

func TestH2OverTLSBothLegs(t *testing.T) {
	// The upstream speaks TLS with its own self-signed certificate, which
	// the proxy is told not to verify.
	up := httptest.NewUnstartedServer(protoMux())
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()
	cert, key, pool := selfSigned(t)
	run := proxytest.StartRun(t, up.URL, proxytest.TLS(cert, key),
		proxytest.Config(func(c *proxy.Config) { c.UpstreamInsecure = true }))
	require.True(t, strings.HasPrefix(run.URL, "https://"))

	h2 := h2TLSClient(t, pool)
	r := do(t, h2, newReq(t, "POST", run.URL+"/proto", strings.NewReader("tls body")))
	assert.Equal(t, "HTTP/2.0", r.Proto)
	assert.Equal(t, "HTTP/2.0 8", string(r.Body))
	direct := do(t, up.Client(), newReq(t, "GET", up.URL+"/echo?x=1", nil))
	proxied := do(t, h2, newReq(t, "GET", run.URL+"/echo?x=1", nil))
	assert.Equal(t, direct.Body, proxied.Body)
	assert.Equal(t, direct.Header, proxied.Header)

	// An HTTP/1.1 client over TLS gets HTTP/1.1 upstream.
	var p1 http.Protocols
	p1.SetHTTP1(true)
	tr1 := &http.Transport{Protocols: &p1, TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr1.CloseIdleConnections()
	r1 := do(t, &http.Client{Transport: tr1}, newReq(t, "POST", run.URL+"/proto", strings.NewReader("ab")))
	assert.Equal(t, "HTTP/1.1 2", string(r1.Body))

	exs := run.Stop()
	require.Len(t, exs, 3)
	assert.Equal(t, rprpb.Protocol_PROTOCOL_H2, exs[0].Protocol)
	assert.Equal(t, "https", exs[0].Request.Scheme)
	assert.Equal(t, []byte("tls body"), exs[0].Request.Body.Data)
	assert.Equal(t, []byte("HTTP/2.0 8"), exs[0].Response.Body.Data)
	assert.EqualValues(t, 1, exs[0].StreamId)
	assert.EqualValues(t, 3, exs[1].StreamId)
	assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, exs[2].Protocol)
	assert.Equal(t, "https", exs[2].Request.Scheme)
	assert.Zero(t, exs[2].StreamId)
	for _, ex := range exs {
		assert.Empty(t, ex.Error)
		assertTimings(t, ex)
	}
}

func TestUntrustedUpstreamCertificateIsAnUpstreamError(t *testing.T) {
	up := httptest.NewTLSServer(protoMux())
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	r := do(t, h1Client(t), newReq(t, "GET", run.URL+"/echo", nil))
	assert.Equal(t, http.StatusBadGateway, r.Status)
	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.Contains(t, exs[0].Error, "certificate")
}
