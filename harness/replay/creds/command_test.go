package creds

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperCommand returns a Command provider that runs this test binary in
// mode, and the file each run appends a line to.
func helperCommand(t *testing.T, mode string, timeout time.Duration, opts ...CommandOption) (Provider, func() int) {
	t.Helper()
	count := filepath.Join(t.TempDir(), "runs")
	// Under -race the helper would otherwise sleep a second on exit
	// (the race runtime's atexit_sleep_ms) after every token it prints.
	opts = append([]CommandOption{Env("CREDS_HELPER="+mode, "CREDS_COUNT="+count, "GORACE=atexit_sleep_ms=0")}, opts...)
	p := Command([]string{os.Args[0]}, timeout, opts...)
	return p, func() int {
		b, err := os.ReadFile(count)
		if os.IsNotExist(err) {
			return 0
		}
		require.NoError(t, err)
		return bytes.Count(b, []byte("\n"))
	}
}

func TestCommandTokenAndEnv(t *testing.T) {
	t.Parallel()
	p, runs := helperCommand(t, "echo", 0)
	tok, err := p.Token(t.Context(), "s1", ph1)
	require.NoError(t, err)
	assert.Equal(t, "tok:s1:"+ph1, tok, "stdout trimmed, env carries session and placeholder")
	assert.Equal(t, 1, runs())
}

func TestCommandCachesPerKey(t *testing.T) {
	t.Parallel()
	p, runs := helperCommand(t, "echo", 0)
	for range 3 {
		tok, err := p.Token(t.Context(), "s1", ph1)
		require.NoError(t, err)
		assert.Equal(t, "tok:s1:"+ph1, tok)
	}
	assert.Equal(t, 1, runs(), "same key runs once")

	tok, err := p.Token(t.Context(), "s2", ph1)
	require.NoError(t, err)
	assert.Equal(t, "tok:s2:"+ph1, tok)
	tok, err = p.Token(t.Context(), "s1", ph2)
	require.NoError(t, err)
	assert.Equal(t, "tok:s1:"+ph2, tok)
	assert.Equal(t, 3, runs(), "each new (session, placeholder) runs once")
}

func TestCommandNonZeroExit(t *testing.T) {
	t.Parallel()
	p, runs := helperCommand(t, "fail", 0)
	_, err := p.Token(t.Context(), "s1", ph1)
	require.ErrorIs(t, err, ErrCommand)
	msg := err.Error()
	assert.Contains(t, msg, "exit status 3")
	assert.Contains(t, msg, `"boom: no such user"`, "first non-empty stderr line")
	assert.NotContains(t, msg, "second line")
	assert.NotContains(t, msg, "half-a-token", "stdout never reaches the error")
	assert.Contains(t, msg, `"s1"`)
	assert.Contains(t, msg, ph1)

	_, err2 := p.Token(t.Context(), "s1", ph1)
	assert.Equal(t, err, err2, "the error is cached")
	assert.Equal(t, 1, runs())
}

func TestCommandEmptyOutput(t *testing.T) {
	t.Parallel()
	p, _ := helperCommand(t, "empty", 0)
	_, err := p.Token(t.Context(), "s1", ph1)
	require.ErrorIs(t, err, ErrNoToken)
	assert.NotErrorIs(t, err, ErrCommand)
}

func TestCommandTimeout(t *testing.T) {
	t.Parallel()
	p, _ := helperCommand(t, "hang", 200*time.Millisecond)
	start := time.Now()
	_, err := p.Token(t.Context(), "s1", ph1)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, ErrCommand)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "killed after 200ms")
	assert.Less(t, elapsed, 2*time.Second)
}

// TestCommandTimeoutKillsChildren runs a shell whose child holds stdout
// open: the run still ends within the bound.
func TestCommandTimeoutKillsChildren(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	p := Command([]string{sh, "-c", "sleep 30; echo late"}, 200*time.Millisecond)
	start := time.Now()
	_, err = p.Token(t.Context(), "s1", ph1)
	require.ErrorIs(t, err, ErrCommand)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestCommandOutputCapped(t *testing.T) {
	t.Parallel()
	p, _ := helperCommand(t, "flood", 5*time.Second, MaxOutput(4096))
	start := time.Now()
	_, err := p.Token(t.Context(), "s1", ph1)
	require.ErrorIs(t, err, ErrCommand)
	assert.Contains(t, err.Error(), "stdout exceeds 4096 bytes")
	assert.NotContains(t, err.Error(), "aaaa")
	assert.Less(t, time.Since(start), 2*time.Second, "killed at the cap, not at the timeout")
}

func TestCommandBadArgv(t *testing.T) {
	t.Parallel()
	for _, argv := range [][]string{nil, {""}} {
		_, err := Command(argv, time.Second).Token(t.Context(), "s1", ph1)
		assert.ErrorIs(t, err, ErrCommand)
	}
	_, err := Command([]string{filepath.Join(t.TempDir(), "missing")}, time.Second).Token(t.Context(), "s1", ph1)
	assert.ErrorIs(t, err, ErrCommand)
}

func TestCommandConcurrentSameKey(t *testing.T) {
	t.Parallel()
	p, runs := helperCommand(t, "echo", 0)
	const callers = 16
	var wg sync.WaitGroup
	toks := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { toks[i], errs[i] = p.Token(t.Context(), "s1", ph1) })
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		assert.Equal(t, "tok:s1:"+ph1, toks[i])
	}
	assert.Equal(t, 1, runs())
	assert.False(t, strings.Contains(toks[0], "\n"))
}
