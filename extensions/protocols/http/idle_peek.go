//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package http

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"
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

	// Over TLS: the connection, whether stale is reading from it, and
	// room for the byte of application data that would end its use.
	tc      *tls.Conn
	reading bool
	appData [1]byte
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

// tlsClient returns a TLS client connection over raw, the socket this
// check peeks at, so that stale can read what arrives on it while idle.
func (ic *idleCheck) tlsClient(raw net.Conn, cfg *tls.Config) *tls.Conn {
	if ic == nil {
		return tls.Client(raw, cfg)
	}
	ic.tc = tls.Client(idleSocket{Conn: raw, ic: ic}, cfg)
	return ic.tc
}

// stale reports whether the connection must not be reused: the server
// closed it (EOF), reset it, or sent bytes no request asked for.
func (ic *idleCheck) stale() bool {
	switch {
	case ic == nil:
		return false
	case ic.tc != nil:
		return ic.staleTLS()
	}
	return ic.pending() // unsolicited bytes, EOF or an error
}

// pending tells whether a read of the socket would not block: bytes, EOF
// or an error wait there.
func (ic *idleCheck) pending() bool {
	if err := ic.rc.Read(ic.peek); err != nil {
		return true
	}
	return !errors.Is(ic.err, syscall.EAGAIN) && !errors.Is(ic.err, syscall.EINTR)
}

// staleTLS is stale over TLS, where a peek at the socket is not enough.
// Records that came in with the last response wait in the tls.Conn, where
// a peek does not see them. And a TLS 1.3 server may send a post-handshake
// message (a session ticket, a key update) at any time, idle or not, which
// answers nothing and which Transport's read loop takes in its stride;
// records hide their type, so only the tls.Conn can tell such a message
// from application data or a close_notify. So staleTLS reads from the
// tls.Conn, which handles those messages and then fails with errIdle when
// it has used up what arrived. Application data, EOF or any other error
// mean the connection is out of step or gone.
//
// A read deadline cannot stop that read from blocking: an expired one
// fails a read before it looks at the socket, and a future one adds its
// wait to the request's latency. errIdle is a temporary net.Error, which
// crypto/tls passes on without breaking the connection (it keeps only a
// read error that is not temporary), keeping a record read in part for the
// next read: that record counts as not arrived yet, as bytes sent just
// after the check do.
func (ic *idleCheck) staleTLS() bool {
	ic.reading = true
	n, err := ic.tc.Read(ic.appData[:])
	ic.reading = false
	return n > 0 || !errors.Is(err, errIdle)
}

// idleSocket is the socket under a tls.Conn. While stale reads, a read
// that would block fails with errIdle instead; otherwise it is raw's.
type idleSocket struct {
	net.Conn
	ic *idleCheck
}

func (s idleSocket) Read(p []byte) (int, error) {
	if s.ic.reading && !s.ic.pending() {
		return 0, errIdle
	}
	return s.Conn.Read(p)
}

// idleWriteLimit bounds a write made during the idle check: crypto/tls
// answering a key update the server asked for. The check runs before the
// request's deadline is set, and a server that stopped reading must not
// hold the connection's turn.
const idleWriteLimit = time.Second

func (s idleSocket) Write(p []byte) (int, error) {
	if s.ic.reading {
		_ = s.Conn.SetWriteDeadline(time.Now().Add(idleWriteLimit))
		defer func() { _ = s.Conn.SetWriteDeadline(time.Time{}) }()
	}
	return s.Conn.Write(p)
}

// errIdle ends a read of an idle TLS connection that has nothing more to
// give.
var errIdle error = idleError{}

type idleError struct{}

func (idleError) Error() string   { return "http: nothing more arrived on the idle connection" }
func (idleError) Timeout() bool   { return true }
func (idleError) Temporary() bool { return true } // what crypto/tls looks at

var _ net.Error = idleError{}
