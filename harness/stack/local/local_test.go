package local

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/stacktest"
)

func TestSuiteFakeServices(t *testing.T) {
	stacktest.Run(t, func(t *testing.T) stack.Driver {
		return New(stack.BinDir(fakeBin), stack.StopTimeout(5*time.Second))
	})
}

// TestSuite runs the shared suite against the real services, built from
// this checkout.
func TestSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real stack")
	}
	root, err := findModuleRoot(".")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "compose", "cmd", "gateway"))
	require.NoError(t, err, "the reference services must exist")
	// Build first, outside the suite's Up timeout: a cold Go cache on two
	// shared cores can take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bins, err := binaries(ctx, stack.NewOptions(stack.ModuleRoot(root)))
	require.NoError(t, err)
	stacktest.Run(t, func(t *testing.T) stack.Driver {
		return New(stack.BinDir(bins))
	})
}

func TestOpenRegistered(t *testing.T) {
	d, err := stack.Open(context.Background(), "local", stack.BinDir(fakeBin), stack.ID("x"))
	require.NoError(t, err)
	require.IsType(t, &Driver{}, d)
	assert.Equal(t, fakeBin, d.(*Driver).opts.BinDir)
	assert.Equal(t, "x", d.(*Driver).opts.ID)

	_, err = stack.Open(context.Background(), "nope")
	assert.ErrorIs(t, err, stack.ErrUnknownDriver)
	assert.Contains(t, stack.DriverNames(), "local")
}

func TestNotUp(t *testing.T) {
	ctx := context.Background()
	d := New(stack.BinDir(fakeBin))
	require.NoError(t, d.Down(ctx), "Down before Up is fine")
	_, err := d.Logs(ctx, "gateway")
	assert.ErrorIs(t, err, stack.ErrNotUp)
	_, err = d.Stats(ctx, "gateway")
	assert.ErrorIs(t, err, stack.ErrNotUp)
	assert.ErrorIs(t, d.Fault(ctx, "gateway", stack.FaultKill), stack.ErrNotUp)
	assert.ErrorIs(t, d.Fault(ctx, "gateway", stack.FaultRestart), stack.ErrNotUp)
	assert.ErrorIs(t, d.Fault(ctx, "toaster", stack.FaultKill), stack.ErrUnknownService)
	st, err := d.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st, len(stack.Services))
	for _, s := range st {
		assert.Equal(t, stack.StateMissing, s.State)
	}
	assert.Empty(t, d.Endpoints())
}

func TestMissingPrebuiltBinaries(t *testing.T) {
	d := New(stack.BinDir(t.TempDir()))
	err := d.Up(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A service that never gets ready fails Up with ErrNotReady, and Up stops
// the services it had already started.
func TestUpNotReadyLeavesNothing(t *testing.T) {
	d := New(stack.BinDir(fakeBin), stack.Env("FAKE_NEVER_READY", "marketplace"), stack.ReadyTimeout(time.Second))
	err := d.Up(context.Background())
	require.ErrorIs(t, err, stack.ErrNotReady)
	assert.Contains(t, err.Error(), "marketplace")
	left, err := d.Leftovers(context.Background())
	require.NoError(t, err)
	assert.Empty(t, left)
	assert.Len(t, d.started, 3, "sequencer, indexer, marketplace were started")
}

// Cancelling Up half-way (Ctrl-C in `reprise stack up`) stops everything.
func TestUpCancelledLeavesNothing(t *testing.T) {
	d := New(stack.BinDir(fakeBin), stack.Env("FAKE_NEVER_READY", "missions"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- d.Up(ctx) }()
	// Cancel once missions, which never gets ready, has been started.
	require.Eventually(t, func() bool {
		st, _ := d.Status(context.Background())
		return len(st) == 5 && st[3].State == stack.StateRunning
	}, 30*time.Second, 20*time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("Up did not return after cancel")
	}
	left, err := d.Leftovers(context.Background())
	require.NoError(t, err)
	assert.Empty(t, left)
	assert.Len(t, d.started, 4)
	assert.Empty(t, d.Endpoints())
}

func TestStopAndRestartSamePorts(t *testing.T) {
	ctx := context.Background()
	d := New(stack.BinDir(fakeBin))
	require.NoError(t, d.Up(ctx))
	defer d.Down(ctx)
	before := d.Endpoints()["indexer"]
	require.NoError(t, d.Fault(ctx, "indexer", stack.FaultStop))
	st, err := d.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, stack.StateStopped, st[1].State)
	assert.Equal(t, "exit 0", st[1].Detail, "SIGTERM is a graceful stop")
	_, err = d.Stats(ctx, "indexer")
	assert.Error(t, err, "no stats for a stopped service")
	require.NoError(t, d.Fault(ctx, "indexer", stack.FaultRestart))
	assert.Equal(t, before, d.Endpoints()["indexer"])
	st, err = d.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, stack.StateRunning, st[1].State)
	assert.True(t, st[1].Ready)

	// The log stream spans both runs: two "listening" lines.
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := d.Logs(lctx, "indexer")
	require.NoError(t, err)
	defer rc.Close()
	var all []byte
	buf := make([]byte, 4096)
	for countListening(all) < 2 {
		n, err := rc.Read(buf)
		all = append(all, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
	}
	assert.Equal(t, 2, countListening(all), "%s", all)
	assert.Contains(t, string(all), "sqlite://", "the indexer gets a database URL")
}

func countListening(b []byte) int {
	n := 0
	for i := 0; i+len(`"listening"`) <= len(b); i++ {
		if string(b[i:i+len(`"listening"`)]) == `"listening"` {
			n++
		}
	}
	return n
}

// A port taken by another process between allocation and bind fails the
// service's start; Up starts the stack again on fresh ports.
func TestUpRetriesAfterPortClash(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	calls := 0
	allocatePorts = func() (map[string]stack.Endpoint, error) {
		calls++
		eps, err := allocate()
		if err == nil && calls == 1 {
			first := stack.Services[0].Name
			ep := eps[first]
			ep.HTTP = taken.Addr().String()
			eps[first] = ep
		}
		return eps, err
	}
	defer func() { allocatePorts = allocate }()
	d := New(stack.BinDir(fakeBin), stack.ReadyTimeout(10*time.Second))
	require.NoError(t, d.Up(context.Background()))
	defer d.Down(context.Background())
	assert.Equal(t, 2, calls, "a second allocation after the clash")
	assert.NotEqual(t, taken.Addr().String(), d.Endpoints()[stack.Services[0].Name].HTTP)
	left := len(d.started)
	assert.Equal(t, len(stack.Services)+1, left, "the clashing start, then every service")
}
