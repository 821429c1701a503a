package local

import (
	"context"
	"io"
	"sync"
)

// DefaultLogBytes is how much of each service's output is kept for readers
// that attach late.
const DefaultLogBytes = 1 << 20

// logBuffer keeps the tail of a service's output and lets any number of
// followers read it from the start of that tail and then as it grows. It
// outlives restarts, so a follower sees the whole story of a service.
type logBuffer struct {
	mu     sync.Mutex
	buf    []byte // ring of len cap; data is buf[(end-n)%cap : end%cap]
	total  int64  // bytes ever written; the offset of the next byte
	kept   int    // bytes currently held (<= len(buf))
	wake   chan struct{}
	closed bool
}

func newLogBuffer(size int) *logBuffer {
	return &logBuffer{buf: make([]byte, size), wake: make(chan struct{})}
}

// Write appends p, dropping the oldest bytes beyond capacity. It never
// blocks on readers, so a slow follower cannot stall the service.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return len(p), nil
	}
	n := len(p)
	size := len(b.buf)
	if len(p) > size {
		b.total += int64(len(p) - size)
		p = p[len(p)-size:]
	}
	for len(p) > 0 {
		at := int(b.total % int64(size))
		c := copy(b.buf[at:], p)
		p = p[c:]
		b.total += int64(c)
	}
	b.kept = min(size, b.kept+n)
	close(b.wake)
	b.wake = make(chan struct{})
	return n, nil
}

// close ends every follower once it has read what is buffered.
func (b *logBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.wake)
	}
}

// readAt copies bytes from offset off into p. It returns the offset the
// reader should continue from (moved forward if its bytes were dropped), a
// channel that is closed on the next write, and whether the buffer is closed.
func (b *logBuffer) readAt(off int64, p []byte) (n int, next int64, wake <-chan struct{}, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	oldest := b.total - int64(b.kept)
	if off < oldest {
		off = oldest
	}
	size := int64(len(b.buf))
	for n < len(p) && off < b.total {
		at := off % size
		end := min(size, at+(b.total-off))
		c := copy(p[n:], b.buf[at:end])
		n += c
		off += int64(c)
	}
	return n, off, b.wake, b.closed
}

// follow returns a reader positioned at the oldest kept byte.
func (b *logBuffer) follow(ctx context.Context) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	return &follower{b: b, ctx: ctx, cancel: cancel}
}

type follower struct {
	b      *logBuffer
	ctx    context.Context
	cancel context.CancelFunc
	off    int64
}

func (f *follower) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, next, wake, closed := f.b.readAt(f.off, p)
		f.off = next
		if n > 0 {
			return n, nil
		}
		if closed {
			return 0, io.EOF
		}
		if f.ctx.Err() != nil {
			return 0, io.EOF
		}
		select {
		case <-wake:
		case <-f.ctx.Done():
			return 0, io.EOF
		}
	}
}

// Close ends the follow; a blocked Read returns io.EOF.
func (f *follower) Close() error {
	f.cancel()
	return nil
}
