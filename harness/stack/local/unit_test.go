package local

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogBufferFollow(t *testing.T) {
	b := newLogBuffer(16)
	b.Write([]byte("hello "))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := b.follow(ctx)
	p := make([]byte, 64)
	n, err := f.Read(p)
	require.NoError(t, err)
	assert.Equal(t, "hello ", string(p[:n]))

	got := make(chan string)
	go func() {
		n, _ := f.Read(p)
		got <- string(p[:n])
	}()
	b.Write([]byte("world"))
	select {
	case s := <-got:
		assert.Equal(t, "world", s)
	case <-time.After(10 * time.Second):
		t.Fatal("follower not woken by a write")
	}
	b.close()
	_, err = f.Read(p)
	assert.ErrorIs(t, err, io.EOF)
}

func TestLogBufferKeepsTail(t *testing.T) {
	b := newLogBuffer(8)
	b.Write([]byte("0123456789"))
	b.Write([]byte("ab"))
	b.close()
	all, err := io.ReadAll(b.follow(context.Background()))
	require.NoError(t, err)
	assert.Equal(t, "456789ab", string(all))
}

// A follower overtaken by the writer skips to the oldest kept byte rather
// than reading overwritten data.
func TestLogBufferSlowFollowerSkips(t *testing.T) {
	b := newLogBuffer(4)
	f := b.follow(context.Background())
	b.Write([]byte("abcdefgh"))
	b.Write([]byte("ij"))
	b.close()
	all, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "ghij", string(all))
}

func TestLogBufferCloseAndCancelUnblock(t *testing.T) {
	b := newLogBuffer(8)
	ctx, cancel := context.WithCancel(context.Background())
	f := b.follow(ctx)
	done := make(chan error)
	go func() {
		_, err := f.Read(make([]byte, 8))
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, io.EOF)
	case <-time.After(10 * time.Second):
		t.Fatal("cancel did not unblock Read")
	}
	f2 := b.follow(context.Background())
	go func() {
		_, err := f2.Read(make([]byte, 8))
		done <- err
	}()
	f2.Close()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, io.EOF)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Read")
	}
}

func TestParseStatCPU(t *testing.T) {
	// Field 2 holds spaces and a ')' on purpose.
	line := "1234 (my (svc) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 12345 1000 200"
	cpu, err := parseStatCPU([]byte(line))
	require.NoError(t, err)
	assert.InDelta(t, 3.0, cpu, 1e-9)

	_, err = parseStatCPU([]byte("1234 (x) S 1 2"))
	assert.Error(t, err)
	_, err = parseStatCPU([]byte("no paren"))
	assert.Error(t, err)
}

func TestParseStatusRSS(t *testing.T) {
	rss, err := parseStatusRSS([]byte("Name:\tx\nVmPeak:\t 100 kB\nVmRSS:\t    2048 kB\n"))
	require.NoError(t, err)
	assert.Equal(t, uint64(2048*1024), rss)
	_, err = parseStatusRSS([]byte("Name:\tx\n"))
	assert.Error(t, err)
	_, err = parseStatusRSS([]byte("VmRSS: lots\n"))
	assert.Error(t, err)
}

func TestFindModuleRoot(t *testing.T) {
	root, err := findModuleRoot(".")
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	assert.True(t, filepath.IsAbs(root), root)
	_, err = findModuleRoot(t.TempDir())
	assert.ErrorIs(t, err, ErrNoModule)
}
