package http_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// newCall is a call with a clock that starts now.
func newCall(method, path string, body []byte, h http.Header) *protocol.Call {
	t0 := time.Now()
	return &protocol.Call{Method: method, Path: path, Body: body, Header: h,
		Clock: func() time.Duration { return time.Since(t0) }}
}

// dialH1 returns the driver's client for a recorded HTTP/1.1 connection to
// base, checking that it is the direct one; it is closed with the test.
func dialH1(t *testing.T, base string, opts ...func(*protocol.Target)) protocol.Conn {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	tg := protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_HTTP1}
	for _, o := range opts {
		o(&tg)
	}
	c, err := httpcodec.Codec{}.Dial(tg)
	require.NoError(t, err)
	require.True(t, httpcodec.IsDirect(c), "an HTTP/1.1 connection gets the direct client")
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// countConns starts srv counting the connections it accepts.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// newServer is a counting loopback HTTP/1.1 server for h.
func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	n := countConns(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, n
}

// rawServer accepts loopback connections and hands each to serve with its
// 1-based number; everything it started ends with the test.
type rawServer struct {
	URL      string
	accepted atomic.Int32
}

func newRawServer(t *testing.T, serve func(n int, c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{URL: "http://" + ln.Addr().String()}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(s.accepted.Add(1))
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(n, c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

// readRequest reads one request and its body; false when the client is gone.
func readRequest(br *bufio.Reader) (*http.Request, bool) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, false
	}
	_, err = io.Copy(io.Discard, req.Body)
	return req, err == nil
}

// respond writes a keep-alive response with body.
func respond(c net.Conn, body string) bool {
	_, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	return err == nil
}
