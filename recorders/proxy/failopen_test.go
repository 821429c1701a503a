package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// stuckSink blocks every write until released, like a dead disk.
type stuckSink struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	n       atomic.Int64
}

func (s *stuckSink) Write(context.Context, *rprpb.Record) error {
	s.once.Do(func() { close(s.started) })
	<-s.release
	s.n.Add(1)
	return nil
}

// metricValue reads one sample from a registry.
func metricValue(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.Metric {
			for _, lp := range m.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return sampleValue(m)
		}
	}
	require.FailNow(t, "no such metric", "%s %v", name, labels)
	return 0
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func startProxy(t *testing.T, upstream string, s sink.Sink, opts ...proxy.Option) (*proxy.Proxy, string) {
	u, err := url.Parse(upstream)
	require.NoError(t, err)
	p, err := proxy.New(u, s, opts...)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(p)
	srv.Config.ConnContext = p.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(p.CloseIdleConnections)
	return p, srv.URL
}

func TestFailOpenWhenTheWriterIsStuck(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	stuck := &stuckSink{started: make(chan struct{}), release: make(chan struct{})}
	q := sink.NewQueue(stuck, sink.Capacity(4))
	reg := prometheus.NewRegistry()
	p, base := startProxy(t, up.URL, q, proxy.Metrics(reg))
	client := h1Client(t)

	first := do(t, client, newReq(t, "GET", base+"/echo?n=first", nil))
	require.Equal(t, http.StatusOK, first.Status)
	<-stuck.started // the writer now holds one record and never returns

	const n = 30
	for i := range n {
		body := fmt.Sprintf("payload-%d", i)
		r := do(t, client, newReq(t, "POST", fmt.Sprintf("%s/echo?n=%d", base, i), strings.NewReader(body)))
		require.Equal(t, http.StatusOK, r.Status, "traffic flows while the writer is stuck")
		require.Equal(t, "echo:"+body, string(r.Body))
		require.Equal(t, fmt.Sprintf("n=%d", i), r.Header.Get("X-Query"))
	}

	qs := q.Stats()
	assert.EqualValues(t, n-4, qs.DroppedFull, "the queue holds 4, the rest are dropped")
	assert.Equal(t, 4, qs.Depth)
	assert.EqualValues(t, n-4, p.Stats().Dropped)
	assert.EqualValues(t, 5, p.Stats().Exchanges)
	assert.EqualValues(t, n-4, metricValue(t, reg, "reprise_record_dropped_total", map[string]string{"reason": "queue_full"}))
	assert.EqualValues(t, 0, metricValue(t, reg, "reprise_record_dropped_total", map[string]string{"reason": "write_error"}))
	assert.EqualValues(t, 4, metricValue(t, reg, "reprise_record_queue_depth", nil))
	assert.EqualValues(t, 5, metricValue(t, reg, "reprise_record_exchanges_total", map[string]string{"protocol": "http1"}))
	assert.EqualValues(t, n+1, metricValue(t, reg, "reprise_record_responses_total",
		map[string]string{"route": "/echo", "code": "200"})+metricValue(t, reg, "reprise_record_responses_total",
		map[string]string{"route": "/echo", "method": "POST", "code": "200"}), "every response is counted")

	close(stuck.release)
	require.NoError(t, q.Close(testCtx(t)))
	assert.EqualValues(t, 5, stuck.n.Load(), "what was queued is written")
}

func TestWriteErrorsAreCountedNotPropagated(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	q := sink.NewQueue(sink.Func(func(context.Context, *rprpb.Record) error { return errors.New("disk on fire") }))
	reg := prometheus.NewRegistry()
	_, base := startProxy(t, up.URL, q, proxy.Metrics(reg))
	client := h1Client(t)
	for range 3 {
		r := do(t, client, newReq(t, "GET", base+"/echo", nil))
		require.Equal(t, http.StatusOK, r.Status)
	}
	require.NoError(t, q.Close(testCtx(t)))
	assert.EqualValues(t, 3, q.Stats().WriteErrors)
	assert.EqualValues(t, 3, metricValue(t, reg, "reprise_record_dropped_total", map[string]string{"reason": "write_error"}))
}

func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	const done, inflight = 5, 8
	arrived := make(chan struct{}, inflight)
	gate := make(chan struct{})
	mux := upstreamMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-gate
		_, _ = io.WriteString(w, "slow:"+r.URL.RawQuery)
	})
	up := httptest.NewServer(mux)
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	client := h1Client(t)
	for i := range done {
		do(t, client, newReq(t, "GET", fmt.Sprintf("%s/echo?i=%d", run.URL, i), nil))
	}

	var wg sync.WaitGroup
	results := make(chan reply, inflight)
	for i := range inflight {
		wg.Go(func() {
			results <- do(t, h1Client(t), newReq(t, "GET", fmt.Sprintf("%s/slow?i=%d", run.URL, i), nil))
		})
	}
	for range inflight {
		<-arrived
	}
	stopped := make(chan []*rprpb.Exchange)
	go func() { stopped <- run.Stop() }()
	// The listener closes before in-flight requests finish.
	addr := strings.TrimPrefix(run.URL, "http://")
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "the proxy stops accepting")
	close(gate)
	wg.Wait()
	close(results)
	for r := range results {
		assert.Equal(t, http.StatusOK, r.Status)
		assert.True(t, strings.HasPrefix(string(r.Body), "slow:i="))
	}
	exs := <-stopped // proxytest checks Complete()
	require.Len(t, exs, done+inflight, "every exchange reached the file")
	slow := 0
	for _, ex := range exs {
		if ex.Request.Path == "/slow" {
			slow++
			assert.Equal(t, int32(200), ex.Response.Status)
			assert.True(t, strings.HasPrefix(string(ex.Response.Body.Data), "slow:i="))
		}
	}
	assert.Equal(t, inflight, slow)
	st := run.Recorder.Stats()
	assert.EqualValues(t, done+inflight, st.Exchanges)
	assert.Zero(t, st.Dropped)
	assert.Positive(t, st.FileBytes)
}

func TestRecorderShutdownWithoutStart(t *testing.T) {
	r, err := proxy.NewRecorder(proxy.Config{Listen: "127.0.0.1:0", Upstream: "http://127.0.0.1:1", Out: t.TempDir() + "/x.rpr"})
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Error(t, r.Start(context.Background()), "no Start after Shutdown")
	assert.Zero(t, r.Stats())
}
