package http_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
)

// The Timeout counts from Do: a call stuck behind another on the
// connection gives up when it passes.
func TestH1TimeoutBoundsTheWaitForTheTurn(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := newRawServer(t, func(_ int, _ net.Conn, br *bufio.Reader) {
		readRequest(br)
		arrived <- struct{}{}
		_, _ = io.Copy(io.Discard, br) // never answers
	})
	c := dialH1(t, srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, newCall("GET", "/slow", nil, nil))
		first <- err
	}()
	recv(t, arrived, "the first request")
	call := newCall("GET", "/next", nil, nil)
	call.Timeout = 50 * time.Millisecond
	_, err := c.Do(t.Context(), call)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "wait for the connection")
	cancel()
	require.ErrorIs(t, recv(t, first, "the first call's end"), context.Canceled)
}

// The calls of a replay share a ctx: the client registers for its end once,
// not once per call, and the end of a ctx no later call uses aborts
// nothing.
func TestH1WatchesEachCtxOnce(t *testing.T) {
	got, answer, stop := make(chan struct{}, 8), make(chan struct{}, 8), make(chan struct{})
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok {
				return
			}
			got <- struct{}{}
			select {
			case <-answer:
			case <-stop:
				return
			}
			if !respond(c, "ok") {
				return
			}
		}
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's cleanup
	c := dialH1(t, srv.URL)
	first, cancelFirst := context.WithCancel(t.Context())
	defer cancelFirst()
	for range 3 {
		answer <- struct{}{}
		_, err := c.Do(first, newCall("GET", "/", nil, nil))
		require.NoError(t, err)
		recv(t, got, "a request")
	}
	assert.EqualValues(t, 1, httpcodec.Watches(c), "three calls under one ctx register once")

	second, cancelSecond := context.WithCancel(t.Context())
	defer cancelSecond()
	done := make(chan error, 1)
	go func() {
		rep, err := c.Do(second, newCall("GET", "/", nil, nil))
		if err == nil && string(rep.Body) != "ok" {
			err = io.ErrUnexpectedEOF
		}
		done <- err
	}()
	recv(t, got, "the request under the second ctx")
	cancelFirst() // must not abort the call in flight under second
	answer <- struct{}{}
	require.NoError(t, recv(t, done, "the call under the second ctx"))
	assert.EqualValues(t, 2, httpcodec.Watches(c))
	assert.EqualValues(t, 1, srv.accepted.Load(), "the connection was kept throughout")
}

// A Timeout that passes on a kept connection is the answer: the request is
// not sent again on a new one, as a connection the server closed would be.
func TestH1TimeoutOnAKeptConnectionIsNotRetried(t *testing.T) {
	stop := make(chan struct{})
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		if _, ok := readRequest(br); !ok || !respond(c, "a") {
			return
		}
		readRequest(br)
		<-stop // never answers the second
	})
	t.Cleanup(func() { close(stop) }) // runs before the server's cleanup
	c := dialH1(t, srv.URL)
	_, err := c.Do(t.Context(), newCall("GET", "/a", nil, nil))
	require.NoError(t, err)
	call := newCall("GET", "/b", nil, nil)
	call.Timeout = 100 * time.Millisecond
	_, err = c.Do(t.Context(), call)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "read response")
	assert.EqualValues(t, 1, srv.accepted.Load(), "the request was not sent again")
}

// A ctx of its own per call, cancelled once the call is done, leaves the
// kept connection usable by the next call.
func TestH1PerCallCtxEndingAfterTheCallKeepsTheConnection(t *testing.T) {
	srv := newRawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		for {
			if _, ok := readRequest(br); !ok || !respond(c, "ok") {
				return
			}
		}
	})
	c := dialH1(t, srv.URL)
	aborted := make(chan struct{}, 1)
	httpcodec.OnAbort(c, func() { aborted <- struct{}{} })
	for i := range 5 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		rep, err := c.Do(ctx, newCall("GET", "/", nil, nil))
		cancel()
		require.NoError(t, err, "call %d", i)
		assert.Equal(t, "ok", string(rep.Body))
		recv(t, aborted, "the client's handling of the ctx's end") // before the next call
	}
	assert.EqualValues(t, 1, srv.accepted.Load(), "one connection for the five calls")
}
