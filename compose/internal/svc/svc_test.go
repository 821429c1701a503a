package svc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLifecycleHealthReadinessMetricsAndPanics(t *testing.T) {
	logs := &syncBuf{}
	s, err := New("demo", Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "info"}, logs)
	require.NoError(t, err)
	var depErr error = errors.New("sequencer not reachable")
	var mu sync.Mutex
	s.ReadyWhen(func(context.Context) error { mu.Lock(); defer mu.Unlock(); return depErr })
	s.Handle("GET /v1/boom", func(http.ResponseWriter, *http.Request) { panic("rare input") })
	s.Handle("GET /v1/ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "fine") })
	require.NoError(t, s.Start())
	base := "http://" + s.HTTPAddr()

	code, _ := get(t, base+"/healthz")
	assert.Equal(t, 200, code)
	code, body := get(t, base+"/readyz")
	assert.Equal(t, 503, code)
	assert.Contains(t, body, "sequencer not reachable")
	mu.Lock()
	depErr = nil
	mu.Unlock()
	code, _ = get(t, base+"/readyz")
	assert.Equal(t, 200, code)

	code, _ = get(t, base+"/v1/ok")
	assert.Equal(t, 200, code)
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: &http.Transport{Protocols: &h2c}}
	resp, err := h2.Get(base + "/v1/ok")
	require.NoError(t, err, "the HTTP port also speaks h2c")
	resp.Body.Close()
	assert.Equal(t, 2, resp.ProtoMajor)
	h2.CloseIdleConnections()
	code, _ = get(t, base+"/v1/boom")
	assert.Equal(t, 500, code, "a panic is answered, not fatal")
	code, _ = get(t, base+"/v1/ok")
	assert.Equal(t, 200, code, "the service survives")

	_, metrics := get(t, base+"/metrics")
	assert.Contains(t, metrics, `http_requests_total{code="500",method="GET",route="/v1/boom"} 1`)
	assert.Contains(t, metrics, `http_requests_total{code="200",method="GET",route="/v1/ok"} 3`)
	assert.Contains(t, metrics, "service_panics_total 1")
	assert.Contains(t, metrics, "go_goroutines")
	assert.Contains(t, metrics, "process_resident_memory_bytes")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))

	var sawPanic bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "every log line is JSON: %s", line)
		assert.Equal(t, "demo", rec["service"])
		if rec["msg"] == "panic" {
			sawPanic = true
		}
	}
	assert.True(t, sawPanic)
}

func TestBadLogLevel(t *testing.T) {
	_, err := New("demo", Options{LogLevel: "loud"}, io.Discard)
	assert.ErrorContains(t, err, "--log-level")
}

func TestShutdownWithoutStart(t *testing.T) {
	s, err := New("demo", Options{LogLevel: "info"}, io.Discard)
	require.NoError(t, err)
	assert.NoError(t, s.Shutdown(context.Background()))
}
