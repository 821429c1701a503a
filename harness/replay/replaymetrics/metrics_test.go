package replaymetrics

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var progress = replay.Progress{
	Planned: 1000, Sent: 640, Done: 655, Dropped: 15, Errors: 7, InFlight: 12,
	Elapsed:    90*time.Second + 250*time.Millisecond,
	LatencyP99: 42 * time.Millisecond, LagP99: 1500 * time.Microsecond,
}

func fixed(p replay.Progress) ProgressSource {
	return ProgressFunc(func() replay.Progress { return p })
}

// gather collects c through a pedantic registry, which also checks that
// what Collect sends agrees with Describe, and renders the text exposition.
// (testutil.CollectAndCompare/CollectAndLint would pull in a module that
// go.mod lacks; this is the same check by hand.)
func gather(t *testing.T, c prometheus.Collector) ([]*dto.MetricFamily, []byte) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		require.NoError(t, enc.Encode(mf))
	}
	return mfs, buf.Bytes()
}

func TestCollectGolden(t *testing.T) {
	mfs, got := gather(t, New(fixed(progress), ConstLabels(prometheus.Labels{"shard": "2/8"})))
	const golden = "testdata/metrics.prom"
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
	assert.Len(t, mfs, 9)
}

func TestCollectLint(t *testing.T) {
	mfs, _ := gather(t, New(fixed(progress)))
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// TestCollectReadsEachScrape shows the figures are live: one Progress call
// per scrape, and a new scrape sees new values.
func TestCollectReadsEachScrape(t *testing.T) {
	var calls atomic.Int64
	c := New(ProgressFunc(func() replay.Progress {
		n := calls.Add(1)
		return replay.Progress{Sent: int(n) * 10}
	}))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	for want := 1; want <= 2; want++ {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		assert.Equal(t, int64(want), calls.Load())
		for _, mf := range mfs {
			if mf.GetName() == "reprise_replay_requests_sent_total" {
				assert.Equal(t, float64(want*10), mf.GetMetric()[0].GetCounter().GetValue())
			}
		}
	}
}

func TestCollectNilSource(t *testing.T) {
	mfs, _ := gather(t, New(nil))
	assert.Empty(t, mfs)
}

func TestBadConstLabelNoPanic(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(fixed(progress), ConstLabels(prometheus.Labels{"shard": "\xff"}))
	assert.NotPanics(t, func() {
		err := reg.Register(c)
		if err == nil {
			_, err = reg.Gather()
		}
		assert.Error(t, err)
	})
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler(New(fixed(progress))))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err)
	require.Contains(t, mfs, "reprise_replay_requests_planned")
	assert.Equal(t, 1000.0, mfs["reprise_replay_requests_planned"].GetMetric()[0].GetGauge().GetValue())
	assert.Equal(t, 0.0015, mfs["reprise_replay_generator_lag_p99_seconds"].GetMetric()[0].GetGauge().GetValue())
	assert.Contains(t, mfs, "go_goroutines", "Go runtime collector")
}

func TestHandlerBadCollector(t *testing.T) {
	for name, c := range map[string]prometheus.Collector{
		"nil":   nil,
		"clash": prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_goroutines", Help: "clashes"}),
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			assert.NotPanics(t, func() {
				Handler(c).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			})
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.True(t, strings.HasPrefix(rec.Body.String(), "replaymetrics:"), rec.Body.String())
		})
	}
}
