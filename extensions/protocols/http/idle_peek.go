//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package http

import (
	"errors"
	"net"
	"syscall"
)

// idleCheck tells whether the server closed a kept connection (or sent
// something on it) while it was idle, by peeking at the socket without
// blocking: Transport's read loop notices that in the background, and
// without the check a request that may not be retried (a POST) would fail
// where Transport would have dialled again.
type idleCheck struct {
	rc   syscall.RawConn
	buf  [1]byte
	n    int
	err  error
	peek func(fd uintptr) bool // kept, so a check allocates nothing
}

// newIdleCheck returns nil when raw gives no access to its socket.
func newIdleCheck(raw net.Conn) *idleCheck {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	ic := &idleCheck{rc: rc}
	ic.peek = func(fd uintptr) bool {
		// Go's sockets are non-blocking: no data is EAGAIN.
		ic.n, _, ic.err = syscall.Recvfrom(int(fd), ic.buf[:], syscall.MSG_PEEK)
		return true
	}
	return ic
}

// stale reports whether the connection must not be reused: the server
// closed it (EOF), reset it, or sent bytes no request asked for.
func (ic *idleCheck) stale() bool {
	if ic == nil {
		return false
	}
	if err := ic.rc.Read(ic.peek); err != nil {
		return true
	}
	if errors.Is(ic.err, syscall.EAGAIN) || errors.Is(ic.err, syscall.EINTR) {
		return false
	}
	return true // n > 0: unsolicited bytes; n == 0 with no error: EOF; or an error
}
