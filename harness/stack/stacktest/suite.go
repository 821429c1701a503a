package stacktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/stack"
)

// Timeouts of the suite; generous because the machine is shared.
const (
	UpTimeout      = 90 * time.Second
	StepTimeout    = 30 * time.Second
	RecoverTimeout = 45 * time.Second
)

// Run brings up the stack newDriver returns and checks every part of the
// Driver contract against it. The driver must also be a stack.Auditor, so
// that the suite can prove Down left nothing behind.
func Run(t *testing.T, newDriver func(t *testing.T) stack.Driver) {
	d := newDriver(t)
	auditor, ok := d.(stack.Auditor)
	require.True(t, ok, "%T must implement stack.Auditor", d)
	downed := false
	t.Cleanup(func() {
		if !downed {
			ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
			defer cancel()
			assert.NoError(t, d.Down(ctx))
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), UpTimeout)
	err := d.Up(ctx)
	cancel()
	require.NoError(t, err, "Up")

	t.Run("status after up", func(t *testing.T) {
		requireAllReady(t, d)
	})
	t.Run("endpoints", func(t *testing.T) {
		eps := d.Endpoints()
		for _, svc := range stack.Services {
			ep, ok := eps[svc.Name]
			require.True(t, ok, "no endpoint for %s", svc.Name)
			assert.NotEmpty(t, ep.HTTP, svc.Name)
			if svc.GRPC {
				assert.NotEmpty(t, ep.GRPC, svc.Name)
			}
		}
	})
	var token string
	t.Run("request through the gateway", func(t *testing.T) {
		token = login(t, d)
		items := getItems(t, d, token)
		assert.NotEmpty(t, items, "the marketplace has items")
	})
	t.Run("logs", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
		defer cancel()
		rc, err := d.Logs(ctx, "gateway")
		require.NoError(t, err)
		defer rc.Close()
		line := firstJSONLine(t, rc)
		assert.Contains(t, line, "msg", "slog JSON lines carry msg")
		_, err = d.Logs(ctx, "nope")
		assert.ErrorIs(t, err, stack.ErrUnknownService)
	})
	t.Run("stats", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
		defer cancel()
		st, err := d.Stats(ctx, "gateway")
		require.NoError(t, err)
		assert.Positive(t, st.MemoryBytes, "memory")
		assert.GreaterOrEqual(t, st.CPUPercent, 0.0)
		assert.False(t, st.At.IsZero())
		_, err = d.Stats(ctx, "nope")
		assert.ErrorIs(t, err, stack.ErrUnknownService)
	})
	t.Run("pause and unpause", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
		defer cancel()
		require.NoError(t, d.Fault(ctx, "missions", stack.FaultPause))
		requireState(t, d, "missions", stack.StatePaused)
		require.NoError(t, d.Fault(ctx, "missions", stack.FaultUnpause))
		requireState(t, d, "missions", stack.StateRunning)
		assert.ErrorIs(t, d.Fault(ctx, "missions", stack.Fault("melt")), stack.ErrUnknownFault)
	})
	t.Run("kill and restart", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), RecoverTimeout)
		defer cancel()
		require.NoError(t, d.Fault(ctx, "marketplace", stack.FaultKill))
		requireState(t, d, "marketplace", stack.StateExited)
		require.NoError(t, d.Fault(ctx, "marketplace", stack.FaultRestart))
		requireAllReady(t, d)
		// The gateway reconnects to the new marketplace with gRPC backoff,
		// so the first calls may still fail.
		require.Eventually(t, func() bool {
			code, _ := get(d, token, "/v1/items")
			return code == http.StatusOK
		}, RecoverTimeout, 200*time.Millisecond, "the gateway serves items again")
	})
	t.Run("down leaves nothing", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
		defer cancel()
		require.NoError(t, d.Down(ctx))
		downed = true
		left, err := auditor.Leftovers(ctx)
		require.NoError(t, err)
		assert.Empty(t, left)
		require.NoError(t, d.Down(ctx), "Down is idempotent")
		assert.Empty(t, d.Endpoints())
	})
}

func requireAllReady(t *testing.T, d stack.Driver) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := d.Status(ctx)
		require.NoError(c, err)
		seen := map[string]bool{}
		// Drivers may report more than the services (postgres, prometheus);
		// every row must be up.
		for _, s := range st {
			seen[s.Service] = true
			assert.Equal(c, stack.StateRunning, s.State, "%s: %+v", s.Service, s)
			assert.True(c, s.Ready, "%s ready: %+v", s.Service, s)
		}
		for _, name := range stack.Names() {
			assert.True(c, seen[name], "%s missing from status %+v", name, st)
		}
	}, StepTimeout, 100*time.Millisecond, "every service running and ready")
}

func requireState(t *testing.T, d stack.Driver, service string, want stack.State) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := d.Status(ctx)
		require.NoError(c, err)
		for _, s := range st {
			if s.Service == service {
				assert.Equal(c, want, s.State, "%+v", s)
				return
			}
		}
		assert.Fail(c, "service missing from status", service)
	}, StepTimeout, 100*time.Millisecond, "%s in state %s", service, want)
}

var client = &http.Client{Timeout: 10 * time.Second}

func gatewayURL(d stack.Driver, path string) string {
	return "http://" + d.Endpoints()["gateway"].HTTP + path
}

func login(t *testing.T, d stack.Driver) string {
	t.Helper()
	body := `{"user":"stacktest","password":"pw"}`
	resp, err := client.Post(gatewayURL(d, "/v1/login"), "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "login: %s", data)
	var out struct {
		Token    string `json:"token"`
		PlayerID string `json:"player_id"`
	}
	require.NoError(t, json.Unmarshal(data, &out), "login: %s", data)
	require.NotEmpty(t, out.Token, "login: %s", data)
	return out.Token
}

func get(d stack.Driver, token, path string) (int, []byte) {
	req, err := http.NewRequest(http.MethodGet, gatewayURL(d, path), nil)
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func getItems(t *testing.T, d stack.Driver, token string) []json.RawMessage {
	t.Helper()
	code, data := get(d, token, "/v1/items")
	require.Equal(t, http.StatusOK, code, "GET /v1/items: %s", data)
	var out struct {
		Items []json.RawMessage `json:"items"`
	}
	require.NoError(t, json.Unmarshal(data, &out), "GET /v1/items: %s", data)
	return out.Items
}

// firstJSONLine reads until a line that is a JSON object, as slog's JSON
// handler writes. Docker's stream may carry a timestamp or framing before
// the object, so the object is looked for from the first '{'.
func firstJSONLine(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var seen []string
	for sc.Scan() {
		line := sc.Bytes()
		if i := bytes.IndexByte(line, '{'); i >= 0 {
			var obj map[string]any
			if json.Unmarshal(line[i:], &obj) == nil {
				return string(line[i:])
			}
		}
		if len(seen) < 5 {
			seen = append(seen, string(line))
		}
	}
	require.FailNow(t, "no JSON log line", "scan: %v; first lines: %s", sc.Err(), fmt.Sprint(seen))
	return ""
}
