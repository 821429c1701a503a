package http_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// The direct client writes, byte for byte, what the Transport-based client
// wrote for the same calls.
func TestH1WritesWhatTransportWrote(t *testing.T) {
	captured := make(chan []byte, 1)
	srv := newRawServer(t, func(_ int, c net.Conn, _ *bufio.Reader) {
		var raw bytes.Buffer
		br := bufio.NewReader(io.TeeReader(c, &raw))
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			n := raw.Len() - br.Buffered()
			captured <- bytes.Clone(raw.Bytes()[:n])
			raw.Next(n)
			if !respond(c, "") {
				return
			}
		}
	})
	u, err := url.Parse(srv.URL + "/base/")
	require.NoError(t, err)
	tg := protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_HTTP1}
	direct, err := httpcodec.Codec{}.Dial(tg)
	require.NoError(t, err)
	defer direct.Close()
	viaTransport := httpcodec.DialTransport(tg)
	defer viaTransport.Close()

	for _, tc := range []struct {
		name string
		call *protocol.Call
	}{
		{"get", newCall("GET", "/items/1", nil, http.Header{"Accept": {"*/*"}})},
		{"no method", newCall("", "/", nil, nil)},
		{"query", func() *protocol.Call {
			c := newCall("GET", "/search", nil, http.Header{})
			c.RawQuery = "q=a%20b&x=1&x=2"
			return c
		}()},
		{"escaped path", newCall("GET", "/files/a%2Fb/c%20d", nil, nil)},
		{"post body", newCall("POST", "/orders", []byte(`{"qty":2}`), http.Header{"Content-Type": {"application/json"}})},
		{"recorded user agent", newCall("POST", "/orders", []byte("x"), http.Header{"User-Agent": {"recorded/1.0"}})},
		{"empty user agent", newCall("GET", "/", nil, http.Header{"User-Agent": {""}})},
		{"put empty", newCall("PUT", "/items/1", nil, nil)},
		{"head", newCall("HEAD", "/items/1", nil, nil)},
		{"many values", newCall("GET", "/", nil, http.Header{
			"Cookie": {"a=1; b=2"}, "X-Many": {"1", "2"}, "Accept-Encoding": {"gzip, br"}, "Authorization": {"Bearer t"},
		})},
		{"expect continue", newCall("POST", "/upload", []byte("payload"), http.Header{"Expect": {"100-continue"}})},
		{"sub-delims in the path", newCall("GET", "/a!b$c&d'e(f)g*h+i,j;k=l:m@n~o", nil, nil)},
		{"space in the path", newCall("GET", "/a b", nil, nil)},
		{"non-ascii path", newCall("GET", "/caf\u00e9/ü", nil, nil)},
		{"bad escape made good", newCall("GET", "/100%25/x", nil, nil)},
		{"query with a fragment", func() *protocol.Call {
			c := newCall("GET", "/q", nil, nil)
			c.RawQuery = "a=1#frag"
			return c
		}()},
		{"delete empty", newCall("DELETE", "/items/1", nil, nil)},
		{"options", newCall("OPTIONS", "/", nil, nil)},
		{"patch body", newCall("PATCH", "/items/1", []byte(`{}`), nil)},
		{"custom method", newCall("PURGE", "/cache", nil, nil)},
		{"padded values", newCall("GET", "/", nil, http.Header{"X-Pad": {"  both sides\t "}, "User-Agent": {" ua "}})},
		{"non-canonical keys", newCall("GET", "/", nil, http.Header{"x-lower": {"v"}, "user-agent": {"lower/1"}})},
		{"user agent with no value", newCall("GET", "/", nil, http.Header{"User-Agent": nil})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			_, err := viaTransport.Do(ctx, tc.call)
			require.NoError(t, err)
			want := <-captured
			_, err = direct.Do(ctx, tc.call)
			require.NoError(t, err)
			got := <-captured
			assert.Equal(t, string(want), string(got))
			assert.NotContains(t, string(got), "Accept-Encoding: gzip\r\n", "no compression is asked for")
		})
	}
}

func TestH1KeepsTheConnectionAlive(t *testing.T) {
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	})
	c := dialH1(t, srv.URL)
	for i := range 20 {
		method := []string{"GET", "POST"}[i%2]
		call := newCall(method, fmt.Sprintf("/n/%d", i), []byte("body"), nil)
		rep, err := c.Do(t.Context(), call)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, rep.Status)
		assert.Equal(t, fmt.Sprintf("%s /n/%d", method, i), string(rep.Body))
		assert.EqualValues(t, len(rep.Body), rep.Size)
		assert.Equal(t, int32(-1), rep.GRPCStatus)
		assert.True(t, 0 < rep.Sent && rep.Sent <= rep.FirstByte && rep.FirstByte <= rep.Done, "%+v", rep)
	}
	assert.EqualValues(t, 1, conns.Load(), "20 sequential calls, one TCP connection")
}

// TestH1HeadWithContentLength: a HEAD answer's Content-Length describes
// no bytes on the wire; it is neither an error nor a reason to redial.
func TestH1HeadWithContentLength(t *testing.T) {
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte("hello"))
		}
	})
	c := dialH1(t, srv.URL)
	for i, method := range []string{"HEAD", "GET", "HEAD", "GET"} {
		rep, err := c.Do(t.Context(), newCall(method, "/x", nil, nil))
		require.NoError(t, err, "call %d (%s)", i, method)
		assert.Equal(t, http.StatusOK, rep.Status)
		if method == "GET" {
			assert.Equal(t, "hello", string(rep.Body))
		} else {
			assert.Empty(t, rep.Body)
		}
	}
	assert.EqualValues(t, 1, conns.Load(), "one TCP connection for all four")
}

func TestH1DialsAgainAfterConnectionClose(t *testing.T) {
	srv, conns := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	c := dialH1(t, srv.URL)
	for range 3 {
		rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
		require.NoError(t, err)
		assert.Equal(t, "bye", string(rep.Body))
	}
	assert.EqualValues(t, 3, conns.Load())
}

// A response read to EOF (no length, not chunked) ends its connection.
func TestH1DialsAgainAfterABodyReadToEOF(t *testing.T) {
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); ok {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\nuntil eof")
		}
	})
	c := dialH1(t, srv.URL)
	for range 2 {
		rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
		require.NoError(t, err)
		assert.Equal(t, "until eof", string(rep.Body))
	}
	assert.EqualValues(t, 2, srv.accepted.Load())
}

// A kept connection the server closed while it was idle is replaced before
// use, so even a request that may not be retried (a POST) goes through.
func TestH1ReplacesAConnectionClosedWhileIdle(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok || !respond(c, fmt.Sprint(n)) {
				return
			}
			if n == 1 {
				_ = c.Close()
				closed <- struct{}{}
				return
			}
		}
	})
	c := dialH1(t, srv.URL)
	rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.NoError(t, err)
	assert.Equal(t, "1", string(rep.Body))
	<-closed
	rep, err = c.Do(t.Context(), newCall("POST", "/", []byte("once"), nil))
	require.NoError(t, err)
	assert.Equal(t, "2", string(rep.Body))
	assert.EqualValues(t, 2, srv.accepted.Load())
}

// A kept connection that fails after the request went out and before any
// response byte: an idempotent request is sent once more on a fresh
// connection; another one fails, as with Transport.
func TestH1RetriesOnceOnAKeptConnectionThatFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		call   *protocol.Call
		resent bool
	}{
		{"get", newCall("GET", "/", nil, nil), true},
		{"idempotency key", newCall("POST", "/", []byte("pay"), http.Header{"Idempotency-Key": {"k1"}}), true},
		{"post", newCall("POST", "/", []byte("pay"), nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
				for i := 0; ; i++ {
					if _, ok := readRequest(br); !ok {
						return
					}
					if n == 1 && i == 1 { // closed unanswered
						return
					}
					if !respond(c, fmt.Sprintf("conn %d", n)) {
						return
					}
				}
			})
			c := dialH1(t, srv.URL)
			_, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
			require.NoError(t, err)
			rep, err := c.Do(t.Context(), tc.call)
			if !tc.resent {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "read response")
				assert.EqualValues(t, 1, srv.accepted.Load(), "not sent again")
				rep, err = c.Do(t.Context(), newCall("GET", "/", nil, nil))
				require.NoError(t, err, "the failed connection is replaced")
				assert.Equal(t, "conn 2", string(rep.Body))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "conn 2", string(rep.Body))
			assert.EqualValues(t, 2, srv.accepted.Load())
		})
	}
}

// A server that resets every request after the first: the call on the kept
// connection is retried once, the fresh connection's failure is the answer.
func TestH1GivesUpOnAServerThatResets(t *testing.T) {
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			if _, ok := readRequest(br); !ok {
				return
			}
			if n == 1 && i == 0 {
				if !respond(c, "first") {
					return
				}
				continue
			}
			_ = c.(*net.TCPConn).SetLinger(0) // the deferred Close resets
			return
		}
	})
	c := dialH1(t, srv.URL)
	_, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.NoError(t, err)
	rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.Error(t, err)
	assert.Zero(t, rep.Status)
	assert.NotZero(t, rep.Done)
	assert.EqualValues(t, 2, srv.accepted.Load(), "retried exactly once")
	_, err = c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.Error(t, err)
	assert.EqualValues(t, 3, srv.accepted.Load(), "a fresh connection's failure is not retried")
}

func TestH1ReadsChunkedBodiesAndTrailers(t *testing.T) {
	srv, conns := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for i := range 5 {
			_, _ = fmt.Fprintf(w, "part%d;", i)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "5")
	})
	c := dialH1(t, srv.URL)
	for range 2 {
		rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
		require.NoError(t, err)
		assert.Equal(t, "part0;part1;part2;part3;part4;", string(rep.Body))
		assert.EqualValues(t, 30, rep.Size)
		assert.Equal(t, "5", rep.Trailer.Get("X-Sum"))
	}
	assert.EqualValues(t, 1, conns.Load())
}

func TestH1KeepsUpToTheLimitAndCountsTheRest(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			_, _ = io.WriteString(w, body[:50])
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, body[50:])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = io.WriteString(w, body)
	})
	c := dialH1(t, srv.URL, func(tg *protocol.Target) { tg.MaxBody = 15 })
	for _, path := range []string{"/length", "/chunked", "/length"} {
		rep, err := c.Do(t.Context(), newCall("GET", path, nil, nil))
		require.NoError(t, err, path)
		assert.Equal(t, body[:15], string(rep.Body), path)
		assert.EqualValues(t, 100, rep.Size, path)
	}
	assert.EqualValues(t, 1, conns.Load(), "the rest is read off, the connection kept")
}

func TestH1CancelMidBodyReturnsAndDropsTheConnection(t *testing.T) {
	partial, gone := make(chan struct{}), make(chan struct{})
	srv := newRawServer(t, func(n int, c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); !ok {
			return
		}
		if n > 1 {
			respond(c, "fresh")
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
		close(partial)
		_, _ = io.Copy(io.Discard, br) // until the client closes
		close(gone)
	})
	c := dialH1(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		rep *protocol.Reply
		err error
	}
	done, firstByte := make(chan result, 1), make(chan struct{})
	call := newCall("GET", "/", nil, nil)
	clock, calls := call.Clock, 0
	call.Clock = func() time.Duration {
		if calls++; calls == 2 { // Sent, then FirstByte
			close(firstByte)
		}
		return clock()
	}
	go func() {
		rep, err := c.Do(ctx, call)
		done <- result{rep, err}
	}()
	<-partial
	<-firstByte // the head and the first bytes of the body came in one write
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Do did not return after cancel")
	}
	require.ErrorIs(t, r.err, context.Canceled)
	assert.Equal(t, http.StatusOK, r.rep.Status)
	assert.Equal(t, "0123456789", string(r.rep.Body))
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled connection was not closed")
	}
	rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.NoError(t, err)
	assert.Equal(t, "fresh", string(rep.Body))
	assert.EqualValues(t, 2, srv.accepted.Load())
}

// A deadline, the ctx's or the call's Timeout, ends a call the server
// never answers, with an error that wraps context.DeadlineExceeded.
func TestH1DeadlineWrapsDeadlineExceeded(t *testing.T) {
	srv := newRawServer(t, func(_ int, _ net.Conn, br *bufio.Reader) {
		readRequest(br)
		_, _ = io.Copy(io.Discard, br) // never answers
	})
	for _, byTimeout := range []bool{false, true} {
		t.Run(map[bool]string{false: "ctx", true: "timeout"}[byTimeout], func(t *testing.T) {
			c := dialH1(t, srv.URL)
			// The call's clock starts before the deadline's, so Done on
			// it is at least the timeout whenever the call ran to its
			// deadline. Done−Sent would not be: Sent is taken inside Do,
			// which a loaded machine may reach milliseconds after the
			// deadline started counting.
			call := newCall("GET", "/", nil, nil)
			ctx := t.Context()
			if byTimeout {
				call.Timeout = 100 * time.Millisecond
			} else {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
				defer cancel()
			}
			rep, err := c.Do(ctx, call)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Zero(t, rep.Status)
			assert.GreaterOrEqual(t, rep.Done, 100*time.Millisecond, "the call ended at its deadline, not before")
			assert.GreaterOrEqual(t, rep.Done, rep.Sent)
		})
	}
}

// Calls on one Conn take turns: never two requests on the wire at once, and
// a call waiting for its turn gives up when its ctx ends.
func TestH1SerializesConcurrentCalls(t *testing.T) {
	const calls = 8
	var inFlight, maxInFlight atomic.Int32
	arrived, release, stop := make(chan struct{}, 4*calls), make(chan struct{}), make(chan struct{})
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		got := make(chan struct{}, 4*calls)
		go func() { // reads ahead, so a pipelined request would count
			defer close(got)
			for {
				if _, ok := readRequest(br); !ok {
					return
				}
				n := inFlight.Add(1)
				for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
				}
				arrived <- struct{}{}
				got <- struct{}{}
			}
		}()
		for range got {
			select {
			case <-release:
			case <-stop:
				return
			}
			inFlight.Add(-1)
			if !respond(c, "ok") {
				return
			}
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's cleanup
	c := dialH1(t, srv.URL)
	entered := make(chan struct{}, calls)
	errs := make(chan error, calls)
	for range calls {
		call := newCall("GET", "/", nil, nil)
		clock, once := call.Clock, sync.Once{}
		call.Clock = func() time.Duration { once.Do(func() { entered <- struct{}{} }); return clock() }
		go func() {
			_, err := c.Do(t.Context(), call)
			errs <- err
		}()
	}
	recv(t, arrived, "the first request")
	for range calls {
		recv(t, entered, "a call starting")
	}

	// One more call gives up while it waits for its turn.
	ctx, cancel := context.WithCancel(t.Context())
	waiting := newCall("GET", "/", nil, nil)
	gaveUp := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, waiting)
		gaveUp <- err
	}()
	cancel()
	require.ErrorIs(t, recv(t, gaveUp, "the cancelled call"), context.Canceled)

	select {
	case <-arrived:
		t.Fatal("a second request went out while the first was unanswered")
	case <-time.After(50 * time.Millisecond):
	}
	for i := range calls {
		select {
		case release <- struct{}{}:
		case <-time.After(5 * time.Second):
			t.Fatalf("response %d: the server is not waiting to answer", i)
		}
		if i < calls-1 {
			recv(t, arrived, "the next request")
		}
	}
	for range calls {
		require.NoError(t, recv(t, errs, "a call's end"))
	}
	assert.EqualValues(t, 1, maxInFlight.Load())
	assert.EqualValues(t, 1, srv.accepted.Load())
}

// recv waits for a value on ch, failing the test after a while.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("waited too long for %s", what)
		var zero T
		return zero
	}
}

func TestH1SpeaksHTTP1OverTLS(t *testing.T) {
	var protos sync.Map
	srv := httptestTLS(t, func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.TLS.NegotiatedProtocol+" "+r.Proto, true)
		_, _ = io.WriteString(w, "secure")
	})
	conns := countConns(srv)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	cfg.NextProtos = []string{"h2", "http/1.1"} // replaced: this connection speaks HTTP/1.1
	c := dialH1(t, srv.URL, func(tg *protocol.Target) { tg.TLS = cfg })
	for range 3 {
		rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
		require.NoError(t, err)
		assert.Equal(t, "secure", string(rep.Body))
	}
	assert.EqualValues(t, 1, conns.Load())
	var seen []string
	protos.Range(func(k, _ any) bool { seen = append(seen, k.(string)); return true })
	assert.Equal(t, []string{"http/1.1 HTTP/1.1"}, seen)
	assert.Equal(t, []string{"h2", "http/1.1"}, cfg.NextProtos, "the caller's config is not changed")
}

func TestH1SkipsInformationalResponses(t *testing.T) {
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			_, err := io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n"+
				"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
				"HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\ndone")
			if err != nil {
				return
			}
		}
	})
	c := dialH1(t, srv.URL)
	for range 2 {
		rep, err := c.Do(t.Context(), newCall("POST", "/", []byte("x"), nil))
		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, rep.Status)
		assert.Equal(t, "done", string(rep.Body))
		assert.Equal(t, "yes", rep.Header.Get("X-Final"))
		assert.Empty(t, rep.Header.Get("Link"), "the final response's headers only")
	}
	assert.EqualValues(t, 1, srv.accepted.Load())
}

func TestH1CloseIsIdempotentAndFinal(t *testing.T) {
	gone := make(chan struct{})
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		defer close(gone)
		for {
			if _, ok := readRequest(br); !ok || !respond(c, "ok") {
				return
			}
		}
	})
	c := dialH1(t, srv.URL)
	_, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the connection open")
	}
	_, err = c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.ErrorContains(t, err, "closed")
	assert.EqualValues(t, 1, srv.accepted.Load())
}

// Dial does no I/O: connecting is the first call's, and its failure too.
func TestH1DialsOnFirstUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := dialH1(t, "http://"+addr)
	rep, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.ErrorContains(t, err, "dial")
	assert.Zero(t, rep.Status)
	assert.Zero(t, rep.FirstByte)
	assert.GreaterOrEqual(t, rep.Done, rep.Sent)
}

func TestH1RefusesInvalidHeadersBeforeSending(t *testing.T) {
	srv, conns := newServer(t, func(http.ResponseWriter, *http.Request) {})
	c := dialH1(t, srv.URL)
	for _, h := range []http.Header{{"X-Bad": {"a\r\nInjected: 1"}}, {"Bad Name": {"v"}}} {
		_, err := c.Do(t.Context(), newCall("GET", "/", nil, h))
		require.ErrorContains(t, err, "invalid header")
	}
	assert.Zero(t, conns.Load())
}

func TestH1BoundsTheResponseHead(t *testing.T) {
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); !ok {
			return
		}
		w := bufio.NewWriter(c)
		_, _ = io.WriteString(w, "HTTP/1.1 200 OK\r\n")
		line := "X-Big: " + strings.Repeat("a", 1<<16) + "\r\n"
		for range (11 << 20) / len(line) {
			if _, err := io.WriteString(w, line); err != nil {
				return
			}
		}
		_ = w.Flush()
	})
	c := dialH1(t, srv.URL)
	_, err := c.Do(t.Context(), newCall("GET", "/", nil, nil))
	require.ErrorContains(t, err, "response head larger than")
}

func TestHTTP2StaysOnTransport(t *testing.T) {
	u, err := url.Parse("http://127.0.0.1:1")
	require.NoError(t, err)
	for _, p := range []rprpb.Protocol{rprpb.Protocol_PROTOCOL_H2C, rprpb.Protocol_PROTOCOL_H2} {
		c, err := httpcodec.Codec{}.Dial(protocol.Target{URL: u, Protocol: p})
		require.NoError(t, err)
		assert.False(t, httpcodec.IsDirect(c), p)
		require.NoError(t, c.Close())
	}
	for _, p := range []rprpb.Protocol{rprpb.Protocol_PROTOCOL_HTTP1, rprpb.Protocol_PROTOCOL_UNSPECIFIED} {
		c, err := httpcodec.Codec{}.Dial(protocol.Target{URL: u, Protocol: p})
		require.NoError(t, err)
		assert.True(t, httpcodec.IsDirect(c), p)
		require.NoError(t, c.Close())
	}
}

// httptestTLS is an unstarted TLS server whose ALPN prefers h2.
func httptestTLS(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	return srv
}

// A body read into the call's buffer: in its array while it fits, grown
// (chunked) or replaced (known length) when it does not, and cut at the
// limit either way. The sizes cross the buffer's and the limit's.
func TestH1ReadsTheBodyIntoTheCallsBuffer(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	srv, conns := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Path == "/chunked" {
			_, _ = io.WriteString(w, body[:n/2])
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, body[n/2:n])
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(n))
		_, _ = io.WriteString(w, body[:n])
	})
	c := dialH1(t, srv.URL, func(tg *protocol.Target) { tg.MaxBody = 60 })
	for _, path := range []string{"/length", "/chunked"} {
		for _, n := range []int{0, 5, 16, 40, 100} {
			buf := make([]byte, 3, 16) // its length is not the body's
			call := newCall("GET", path, nil, nil)
			call.RawQuery = "n=" + strconv.Itoa(n)
			call.BodyBuf = buf
			rep, err := c.Do(t.Context(), call)
			require.NoError(t, err, "%s %d", path, n)
			want := body[:min(n, 60)]
			assert.Equal(t, want, string(rep.Body), "%s %d", path, n)
			assert.NotNil(t, rep.Body, "%s %d: an empty body is not nil", path, n)
			assert.EqualValues(t, n, rep.Size, "%s %d", path, n)
			if len(want) > 0 && len(want) <= cap(buf) {
				assert.Same(t, &buf[:1][0], &rep.Body[0], "%s %d: read into the buffer", path, n)
			}
		}
	}
	assert.EqualValues(t, 1, conns.Load())
}
