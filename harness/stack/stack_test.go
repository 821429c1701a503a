package stack_test

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/stack"
)

func TestParseFault(t *testing.T) {
	for _, f := range stack.Faults {
		got, err := stack.ParseFault(string(f))
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := stack.ParseFault("melt")
	assert.ErrorIs(t, err, stack.ErrUnknownFault)
}

func TestServicesInDependencyOrder(t *testing.T) {
	started := map[string]bool{}
	for _, svc := range stack.Services {
		for env, dep := range svc.Deps {
			assert.True(t, started[dep], "%s needs %s (%s) started before it", svc.Name, dep, env)
		}
		started[svc.Name] = true
	}
	_, err := stack.Lookup("toaster")
	assert.ErrorIs(t, err, stack.ErrUnknownService)
	gw, err := stack.Lookup("gateway")
	require.NoError(t, err)
	assert.False(t, gw.GRPC)
}

func TestOptions(t *testing.T) {
	o := stack.NewOptions()
	assert.Equal(t, stack.DefaultID, o.ID)
	assert.Equal(t, stack.DefaultReadyTimeout, o.ReadyTimeout)
	o = stack.NewOptions(stack.ID("x"), stack.Env("A", "1"), stack.Env("B", "2"), stack.ReadyTimeout(time.Second))
	assert.Equal(t, "x", o.ID)
	assert.Equal(t, map[string]string{"A": "1", "B": "2"}, o.Env)
	assert.Equal(t, time.Second, o.ReadyTimeout)
}

func TestOpenUnknownDriver(t *testing.T) {
	_, err := stack.Open(context.Background(), "nope")
	assert.ErrorIs(t, err, stack.ErrUnknownDriver)
}

// readyServer answers 503 until ready is set.
func readyServer(t *testing.T, ready *atomic.Bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/readyz"
}

func TestWaitReady(t *testing.T) {
	var ready atomic.Bool
	url := readyServer(t, &ready)
	ctx := context.Background()

	err := stack.WaitReady(ctx, url, 200*time.Millisecond, nil)
	require.ErrorIs(t, err, stack.ErrNotReady, "503 is not ready")

	polls := 0
	err = stack.WaitReady(ctx, url, 30*time.Second, func() error {
		polls++
		if polls == 3 {
			ready.Store(true) // the service gets ready between polls
		}
		return nil
	})
	require.NoError(t, err)

	dead := assert.AnError
	ready.Store(false)
	err = stack.WaitReady(ctx, url, 30*time.Second, func() error { return dead })
	require.ErrorIs(t, err, stack.ErrNotReady)
	assert.ErrorIs(t, err, dead, "a dead service fails fast with its cause")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, stack.WaitReady(cctx, url, 30*time.Second, nil), context.Canceled)
}
