package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/reprise-dev/reprise/internal/testproto/echo"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

func TestAdminEndpoints(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	run := proxytest.StartRun(t, up.URL, proxytest.Admin())
	client := h1Client(t)
	for i := range 3 {
		do(t, client, newReq(t, "GET", fmt.Sprintf("%s/echo?i=%d", run.URL, i), nil))
	}
	do(t, client, newReq(t, "GET", run.URL+"/gone", nil))
	do(t, client, newReq(t, "PATCH", run.URL+"/nocontent", nil))
	do(t, client, newReq(t, "BREW", run.URL+"/nocontent", nil))

	admin := "http://" + run.Recorder.AdminAddr().String()
	health := do(t, client, newReq(t, "GET", admin+"/healthz", nil))
	assert.Equal(t, http.StatusOK, health.Status)
	assert.Equal(t, "ok\n", string(health.Body))

	// An exchange is counted after its handler returns, which a client may
	// not wait for: poll until the last one is in.
	g := run.Recorder.Gatherer()
	require.Eventually(t, func() bool {
		return metricValue(t, g, "reprise_record_exchanges_total", map[string]string{"protocol": "http1"}) == 6
	}, 10*time.Second, time.Millisecond)
	m := do(t, client, newReq(t, "GET", admin+"/metrics", nil))
	require.Equal(t, http.StatusOK, m.Status)
	text := string(m.Body)
	for _, want := range []string{
		`reprise_record_exchanges_total{protocol="http1"} 6`,
		`reprise_record_responses_total{code="200",method="GET",route="/echo"} 3`,
		`reprise_record_responses_total{code="404",method="GET",route="/gone"} 1`,
		`reprise_record_responses_total{code="204",method="PATCH",route="/nocontent"} 1`,
		`reprise_record_responses_total{code="204",method="OTHER",route="/nocontent"} 1`,
		`reprise_record_upstream_latency_seconds_count{method="GET",route="/echo"} 3`,
		`reprise_record_dropped_total{reason="queue_full"} 0`,
		`reprise_record_dropped_total{reason="write_error"} 0`,
		`reprise_record_queue_depth `,
		`reprise_record_captured_bytes_total `,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		assert.Contains(t, text, want)
	}
	run.Stop()
}

func TestGRPCMetricsUseStatusCodes(t *testing.T) {
	addr := startEcho(t)
	run := proxytest.StartRun(t, "http://"+addr)
	c := dialEcho(t, strings.TrimPrefix(run.URL, "http://"))
	_, err := c.Unary(testCtx(t), &echo.EchoRequest{Text: "missing"})
	require.Error(t, err)
	_, err = c.Unary(testCtx(t), &echo.EchoRequest{Text: "ok"})
	require.NoError(t, err)
	run.Stop()
	g := run.Recorder.Gatherer()
	route := "/reprise.test.echo.v1.Echo/Unary"
	assert.EqualValues(t, 1, metricValue(t, g, "reprise_record_responses_total",
		map[string]string{"route": route, "code": codes.NotFound.String()}))
	assert.EqualValues(t, 1, metricValue(t, g, "reprise_record_responses_total",
		map[string]string{"route": route, "code": codes.OK.String()}))
	assert.EqualValues(t, 2, metricValue(t, g, "reprise_record_exchanges_total", map[string]string{"protocol": "grpc"}))
}

func TestStreamsFlowUnbuffered(t *testing.T) {
	// The upstream sends the next chunk only after the client has read the
	// previous one through the proxy: a proxy that buffered would deadlock.
	const chunks = 5
	ack := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range chunks {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-ack:
			case <-r.Context().Done():
				return
			}
		}
	})
	up := httptest.NewServer(mux)
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	resp, err := h1Client(t).Do(newReq(t, "GET", run.URL+"/stream", nil))
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 64)
	for i := range chunks {
		want := fmt.Sprintf("data: %d\n\n", i)
		_, err := io.ReadFull(resp.Body, buf[:len(want)])
		require.NoError(t, err)
		require.Equal(t, want, string(buf[:len(want)]))
		ack <- struct{}{}
	}
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.Contains(t, string(exs[0].Response.Body.Data), "data: 4\n\n")
}
