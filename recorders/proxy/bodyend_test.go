package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// TestRequestBodyEndsAtItsEnd forces the interleaving behind a rare flake of
// TestBodiesSurviveBufferReuse. Having sent a request body of declared
// length, the upstream transport reads it once more to check it is not
// longer; by then the upstream may have answered, and an HTTP/1 server
// closes the request body as it writes the response headers. A read of the
// closed body fails the request write, and the transport tears down the
// upstream connection under the response it is relaying.
func TestRequestBodyEndsAtItsEnd(t *testing.T) {
	ctx := testCtx(t)
	headersSeen, release := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("first,"))
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done(): // the proxy dropped the connection
			return
		case <-ctx.Done():
		}
		_, _ = w.Write([]byte("rest"))
	}))
	defer up.Close()

	u, err := url.Parse(up.URL)
	require.NoError(t, err)
	capture := &sink.Capture{}
	p, err := proxy.New(u, capture)
	require.NoError(t, err)
	t.Cleanup(p.CloseIdleConnections)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = &lateBody{ctx: ctx, rc: r.Body, headersSeen: headersSeen}
		// The upstream finishes its answer once the proxy has sent the
		// request whole; when that failed, the proxy is dropping the
		// upstream connection, and finishing would only race with that.
		trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				close(release)
			}
		}}
		p.ServeHTTP(w, r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	}))
	srv.Config.ConnContext = p.ConnContext
	srv.Start()
	defer srv.Close()

	// Larger than the transport's write buffer, so the body's last bytes
	// reach the upstream before the transport's final read.
	body := pattern(64 << 10)
	resp, err := h1Client(t).Do(newReq(t, "POST", srv.URL+"/late", bytes.NewReader(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	close(headersSeen)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the response was cut short")
	assert.Equal(t, "first,rest", string(got))

	recs, err := capture.Wait(ctx, 1)
	require.NoError(t, err)
	ex := recs[0].GetExchange()
	assert.Empty(t, ex.Error)
	assert.Equal(t, body, ex.Request.Body.Data)
	assert.Equal(t, "first,rest", string(ex.Response.Body.Data))
}

// lateBody is the server's request body, except that a read past its end
// waits until the response headers have reached the client: by then the
// server has closed the body underneath, as it may on a busy machine.
type lateBody struct {
	ctx         context.Context
	rc          io.ReadCloser
	headersSeen <-chan struct{}
	ended       bool
}

func (b *lateBody) Read(p []byte) (int, error) {
	if b.ended {
		select {
		case <-b.headersSeen:
		case <-b.ctx.Done():
		}
	}
	n, err := b.rc.Read(p)
	b.ended = err == io.EOF
	return n, err
}

func (b *lateBody) Close() error { return b.rc.Close() }
