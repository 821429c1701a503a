package testers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Errors the fault connection returns; they surface wrapped in ErrInjected.
var (
	errDropped = errors.New("connection dropped on purpose")
	errLate    = errors.New("response withheld past the client's timeout on purpose")
)

// faultyClient returns a one-shot HTTP/1.1 client whose single connection
// carries fault, and the function that releases it. HTTP/1.1 on its own
// connection makes the fault hit exactly this request, after it was sent.
func (pl *player) faultyClient(fault Fault) (*http.Client, func()) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	late := max(20*time.Millisecond, time.Duration(float64(500*time.Millisecond)*pl.pop.TimeScale))
	tr := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &faultConn{Conn: c, fault: fault, late: late, closed: make(chan struct{}), written: make(chan struct{})}, nil
		},
	}
	return &http.Client{Transport: tr, Timeout: pl.client.Timeout}, tr.CloseIdleConnections
}

// faultConn sends normally but spoils the response. Both faults wait for
// the first response bytes, so the server has surely handled the request:
// FaultDrop then cuts the connection; FaultTimeout withholds the response
// until late after the request was sent and fails like a read deadline.
type faultConn struct {
	net.Conn
	fault       Fault
	late        time.Duration
	once, wrote sync.Once
	closed      chan struct{}
	written     chan struct{}
	sentAt      time.Time
}

func (c *faultConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.wrote.Do(func() {
		c.sentAt = time.Now()
		close(c.written)
	})
	return n, err
}

func (c *faultConn) Read(b []byte) (int, error) {
	if _, err := c.Conn.Read(b); err != nil {
		return 0, err
	}
	if c.fault == FaultDrop {
		c.Close()
		return 0, errDropped
	}
	select {
	case <-c.written:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	t := time.NewTimer(time.Until(c.sentAt.Add(c.late)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.closed:
	}
	c.Close()
	return 0, fmt.Errorf("%w: %w", errLate, os.ErrDeadlineExceeded)
}

func (c *faultConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
