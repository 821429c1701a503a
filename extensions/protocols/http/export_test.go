package http

import (
	"context"
	"net"

	"github.com/reprise-dev/reprise/harness/protocol"
)

// DialTransport returns the Transport-based client for any recorded
// protocol: for HTTP/1 it is the reference the direct client is compared to.
func DialTransport(t protocol.Target) protocol.Conn { return newTransportConn(t) }

// IsDirect tells the direct HTTP/1.1 client.
func IsDirect(c protocol.Conn) bool {
	_, ok := c.(*h1Conn)
	return ok
}

// DialWith returns a direct HTTP/1.1 client that connects with dial.
func DialWith(t protocol.Target, dial func(ctx context.Context) (net.Conn, error)) protocol.Conn {
	c := newH1Conn(t)
	c.dial = func(ctx context.Context) (net.Conn, *idleCheck, error) {
		nc, err := dial(ctx)
		if err != nil {
			return nil, nil, err
		}
		return nc, newIdleCheck(nc), nil
	}
	return c
}

// Watches counts how often a direct client registered for the end of a
// call's ctx.
func Watches(c protocol.Conn) uint64 {
	h := c.(*h1Conn)
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.watchGen
}

// OnAbort makes a direct client call f each time the end of a ctx it
// watches has been handled.
func OnAbort(c protocol.Conn, f func()) {
	h := c.(*h1Conn)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onAbort = f
}
