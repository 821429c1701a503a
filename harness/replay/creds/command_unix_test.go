//go:build unix

package creds

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatedCommand returns a provider whose runs block until release writes to
// a FIFO, so callers provably overlap one run.
func gatedCommand(t *testing.T) (p Provider, runs func() int, release func(string)) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "gate")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	p, runs = helperCommand(t, "gate", 0, Env("CREDS_FIFO="+fifo))
	return p, runs, func(s string) {
		// Opening for writing blocks until the helper opened it for reading.
		require.NoError(t, os.WriteFile(fifo, []byte(s), 0o600))
	}
}

func TestCommandSingleflight(t *testing.T) {
	t.Parallel()
	p, runs, release := gatedCommand(t)
	const callers = 8
	var started, wg sync.WaitGroup
	started.Add(callers)
	toks := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			started.Done()
			toks[i], errs[i] = p.Token(t.Context(), "s1", ph1)
		})
	}
	started.Wait()
	release("one") // the helper is running: the first caller started it
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "tok-one", toks[i])
	}
	assert.Equal(t, 1, runs())
}

// TestCommandCallerCancel shows that a caller who gives up does not fail
// the run that others wait for.
func TestCommandCallerCancel(t *testing.T) {
	t.Parallel()
	p, runs, release := gatedCommand(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := p.Token(ctx, "s1", ph1)
		done <- err
	}()
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)

	release("two") // the run goes on and finishes
	tok, err := p.Token(t.Context(), "s1", ph1)
	require.NoError(t, err)
	assert.Equal(t, "tok-two", tok)
	assert.Equal(t, 1, runs())
}
