package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
)

const bigSize = 200 << 10

// upstreamMux is the test backend: every route exercises one HTTP feature.
func upstreamMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Method", r.Method)
		w.Header()["X-Multi"] = []string{"one", "two"}
		w.Header().Set("X-Got-Length", fmt.Sprint(r.ContentLength))
		_, _ = w.Write(append([]byte("echo:"), body...))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		for i := range 5 {
			fmt.Fprintf(w, "part %d of %d;", i, len(body))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(pattern(bigSize)) // too big to buffer: sent chunked
	})
	mux.HandleFunc("/bigfixed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(bigSize))
		_, _ = w.Write(pattern(bigSize))
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Kind", "204")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/cached", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("fresh"))
	})
	mux.HandleFunc("/trailer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		_, _ = w.Write([]byte("body with trailer"))
		w.Header().Set("X-Checksum", "abc123")
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	})
	return mux
}

type http1Case struct {
	name   string
	method string
	path   string
	body   func() io.Reader
	header http.Header
}

func http1Cases() []http1Case {
	return []http1Case{
		{name: "get with query", method: "GET", path: "/echo?a=1&b=two%20words&c=%2Fslash"},
		{name: "post fixed length", method: "POST", path: "/echo", body: func() io.Reader { return strings.NewReader("hello body") },
			header: http.Header{"Content-Type": {"text/plain"}, "X-Multi-In": {"1", "2"}}},
		{name: "post chunked", method: "POST", path: "/chunked", body: func() io.Reader { return chunked(pattern(10000)) }},
		{name: "big response", method: "GET", path: "/big"},
		{name: "no content", method: "DELETE", path: "/nocontent"},
		{name: "not modified", method: "GET", path: "/cached", header: http.Header{"If-None-Match": {`"v1"`}}},
		{name: "trailer", method: "GET", path: "/trailer"},
		{name: "not found", method: "GET", path: "/gone"},
	}
}

func TestHTTP1FidelityAndRecording(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	run := proxytest.StartRun(t, up.URL, proxytest.BodyCap(64<<10))
	client := h1Client(t)

	cases := http1Cases()
	for _, c := range cases {
		send := func(base string) reply {
			var body io.Reader
			if c.body != nil {
				body = c.body()
			}
			req := newReq(t, c.method, base+c.path, body)
			for k, v := range c.header {
				req.Header[k] = v
			}
			return do(t, client, req)
		}
		direct, proxied := send(up.URL), send(run.URL)
		assert.Equal(t, direct, proxied, "%s: the client gets the same bytes through the proxy", c.name)
	}

	exs := run.Stop()
	require.Len(t, exs, len(cases))
	byPath := map[string]*rprpb.Exchange{}
	for _, ex := range exs {
		assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, ex.Protocol)
		assert.Zero(t, ex.StreamId)
		assert.NotZero(t, ex.ConnectionId)
		assert.Contains(t, ex.ClientAddr, "127.0.0.1:")
		assert.Empty(t, ex.Error)
		assertTimings(t, ex)
		byPath[ex.Request.Path] = ex
	}
	// Every request went over one keep-alive connection.
	for _, ex := range exs {
		assert.Equal(t, exs[0].ConnectionId, ex.ConnectionId)
	}

	q := byPath["/echo"]
	require.NotNil(t, q)
	echoGet := findExchange(t, exs, "GET", "/echo")
	assert.Equal(t, "a=1&b=two%20words&c=%2Fslash", echoGet.Request.RawQuery)
	assert.Equal(t, "HTTP/1.1", echoGet.Request.Proto)
	assert.Equal(t, "http", echoGet.Request.Scheme)
	assert.Equal(t, strings.TrimPrefix(run.URL, "http://"), echoGet.Request.Host)
	assert.Equal(t, int32(200), echoGet.Response.Status)
	assert.Equal(t, []string{"one", "two"}, header(echoGet.Response.Headers, "X-Multi"))
	assert.Equal(t, []string{"a=1&b=two%20words&c=%2Fslash"}, header(echoGet.Response.Headers, "X-Query"))
	assert.Equal(t, []byte("echo:"), echoGet.Response.Body.Data)
	assert.Nil(t, echoGet.Request.Body, "a GET has no body")

	post := findExchange(t, exs, "POST", "/echo")
	assert.Equal(t, []byte("hello body"), post.Request.Body.Data)
	assert.EqualValues(t, 10, post.Request.Body.Size)
	assert.Equal(t, []string{"1", "2"}, header(post.Request.Headers, "X-Multi-In"))
	assert.Equal(t, []byte("echo:hello body"), post.Response.Body.Data)

	ch := byPath["/chunked"]
	assert.Equal(t, pattern(10000), ch.Request.Body.Data, "chunked request body recorded whole")
	assert.False(t, ch.Request.Body.Truncated)
	want := ""
	for i := range 5 {
		want += fmt.Sprintf("part %d of %d;", i, 10000)
	}
	assert.Equal(t, want, string(ch.Response.Body.Data), "chunked response recorded whole")

	big := byPath["/big"]
	assert.True(t, big.Response.Body.Truncated)
	assert.EqualValues(t, bigSize, big.Response.Body.Size)
	assert.Equal(t, pattern(bigSize)[:64<<10], big.Response.Body.Data)

	nc := byPath["/nocontent"]
	assert.Equal(t, int32(204), nc.Response.Status)
	assert.Nil(t, nc.Response.Body)
	assert.Equal(t, []string{"204"}, header(nc.Response.Headers, "X-Kind"))

	nm := byPath["/cached"]
	assert.Equal(t, int32(304), nm.Response.Status)
	assert.Zero(t, nm.Response.Body.GetSize())

	tr := byPath["/trailer"]
	assert.Equal(t, "body with trailer", string(tr.Response.Body.Data))
	assert.Equal(t, []string{"abc123"}, header(tr.Response.Trailers, "X-Checksum"))

	assert.Equal(t, int32(404), byPath["/gone"].Response.Status)

	// IDs are unique and follow start order.
	seen := map[uint64]bool{}
	for _, ex := range exs {
		assert.False(t, seen[ex.Id])
		seen[ex.Id] = true
	}
}

func findExchange(t testing.TB, exs []*rprpb.Exchange, method, path string) *rprpb.Exchange {
	t.Helper()
	for _, ex := range exs {
		if ex.Request.Method == method && ex.Request.Path == path {
			return ex
		}
	}
	require.FailNow(t, "no exchange", "%s %s", method, path)
	return nil
}

func TestHTTP1ConnectionIDs(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	a, b := h1Client(t), h1Client(t)
	reused := 0
	for i := range 3 {
		for _, c := range []*http.Client{a, b} {
			req := newReq(t, "GET", fmt.Sprintf("%s/echo?i=%d", run.URL, i), nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) {
					if info.Reused {
						reused++
					}
				},
			}))
			do(t, c, req)
		}
	}
	assert.Equal(t, 4, reused, "each client reused its connection")
	exs := run.Stop()
	require.Len(t, exs, 6)
	ids := map[uint64]int{}
	for _, ex := range exs {
		ids[ex.ConnectionId]++
	}
	assert.Len(t, ids, 2, "two clients, two connections")
	for id, n := range ids {
		assert.Equal(t, 3, n, "connection %d carried three requests", id)
	}
}

func TestUpstreamDownGives502AndIsRecorded(t *testing.T) {
	up := httptest.NewServer(http.NotFoundHandler())
	dead := up.URL
	up.Close()
	run := proxytest.StartRun(t, dead)
	r := do(t, h1Client(t), newReq(t, "GET", run.URL+"/x", nil))
	assert.Equal(t, http.StatusBadGateway, r.Status)
	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.Equal(t, int32(502), exs[0].Response.Status)
	assert.Contains(t, exs[0].Error, "upstream: ")
	assert.Contains(t, exs[0].Error, "connection refused")
	assertTimings(t, exs[0])
}

// TestClientGoneIsRecordedAs499: a client that gives up before the
// upstream answers is not an upstream failure. The recording says 499, as
// nginx logs it, so reports do not count the client's leaving as a 5xx.
func TestClientGoneIsRecordedAs499(t *testing.T) {
	arrived := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done() // the proxy cancels the upstream call with the client's
	}))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	tctx := testCtx(t)
	ctx, cancel := context.WithCancel(tctx)
	c, req := h1Client(t), newReq(t, "GET", run.URL+"/slow", nil).WithContext(ctx)
	failed := make(chan error, 1)
	go func() {
		_, err := tryDo(c, req)
		failed <- err
	}()
	select {
	case <-arrived:
	case <-tctx.Done():
		t.Fatal("the request never reached the upstream")
	}
	cancel()
	require.ErrorIs(t, <-failed, context.Canceled)

	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.Equal(t, int32(proxy.StatusClientClosedRequest), exs[0].Response.Status)
	assert.Contains(t, exs[0].Error, "client: ")
}

func TestSessionKeys(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	t.Run("default chain", func(t *testing.T) {
		run := proxytest.StartRun(t, up.URL)
		c := h1Client(t)
		req := newReq(t, "GET", run.URL+"/echo", nil)
		req.Header.Set("X-Reprise-Session", "player-42")
		do(t, c, req)
		do(t, c, newReq(t, "GET", run.URL+"/echo", nil))
		exs := run.Stop()
		require.Len(t, exs, 2)
		assert.Equal(t, "player-42", exs[0].Session)
		assert.Equal(t, "header:x-reprise-session", exs[0].SessionSource)
		assert.Equal(t, "127.0.0.1", exs[1].Session, "the client address is the last resort")
		assert.Equal(t, "client-addr", exs[1].SessionSource)
		assert.Equal(t, session.DefaultSpec, run.Header().RecorderConfig["session_chain"])
	})
	t.Run("configured chain", func(t *testing.T) {
		run := proxytest.StartRun(t, up.URL, proxytest.Config(func(c *proxy.Config) {
			c.SessionChain = "header:X-User,header:X-Api-Key"
		}))
		c := h1Client(t)
		req := newReq(t, "GET", run.URL+"/echo", nil)
		req.Header.Set("X-User", "alice")
		do(t, c, req)
		req = newReq(t, "GET", run.URL+"/echo", nil)
		req.Header.Set("X-Api-Key", "key-SECRET-1")
		do(t, c, req)
		do(t, c, newReq(t, "GET", run.URL+"/echo", nil))
		exs := run.Stop()
		require.Len(t, exs, 3)
		assert.Equal(t, "alice", exs[0].Session)
		assert.True(t, redact.IsPlaceholder(exs[1].Session), "a key from a secret header is hidden")
		assert.Equal(t, exs[1].Session, header(exs[1].Request.Headers, "X-Api-Key")[0])
		assert.Empty(t, exs[2].Session)
		assert.Equal(t, "header:X-User,header:X-Api-Key", run.Header().RecorderConfig["session_chain"])
	})
	t.Run("bad chain", func(t *testing.T) {
		_, err := proxy.NewRecorder(proxy.Config{Listen: "127.0.0.1:0", Upstream: up.URL, Out: "x.rpr", SessionChain: "cokie:x"})
		require.ErrorIs(t, err, proxy.ErrConfig)
		assert.Contains(t, err.Error(), "session-chain")
		assert.Contains(t, err.Error(), "cokie")
	})
}

// TestHTTP1RawBytes compares the raw bytes a client receives, direct and
// through the proxy. net/http writes the headers it adds itself (Date,
// Content-Length) after the handler's, and a proxied response has them among
// the handler's, so header lines are compared as a set; the status line, the
// framing and the body must be identical. Only known-length responses are
// compared: chunk boundaries of a streamed body may legitimately differ.
func TestHTTP1RawBytes(t *testing.T) {
	up := httptest.NewServer(upstreamMux())
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	date := regexp.MustCompile(`^Date: .*$`)
	type rawReply struct {
		status  string
		headers []string
		body    []byte
	}
	raw := func(base, request string) rawReply {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(c, request)
		require.NoError(t, err)
		b, err := io.ReadAll(c)
		require.NoError(t, err)
		head, body, ok := strings.Cut(string(b), "\r\n\r\n")
		require.True(t, ok)
		lines := strings.Split(head, "\r\n")
		hs := lines[1:]
		for i, h := range hs {
			hs[i] = date.ReplaceAllString(h, "Date: X")
		}
		slices.Sort(hs)
		return rawReply{status: lines[0], headers: hs, body: []byte(body)}
	}
	for _, req := range []string{
		"GET /echo?a=1&b=%20x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
		"GET /bigfixed HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"DELETE /nocontent HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /cached HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"v1\"\r\nConnection: close\r\n\r\n",
		"GET /gone HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"HEAD /big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	} {
		direct, proxied := raw(up.URL, req), raw(run.URL, req)
		assert.Equal(t, direct.status, proxied.status, "%q", req)
		assert.Equal(t, direct.headers, proxied.headers, "%q", req)
		assert.True(t, bytes.Equal(direct.body, proxied.body), "%q: body bytes", req)
	}
	exs := run.Stop()
	require.Len(t, exs, 8)
	var bodies []string
	for _, ex := range exs {
		if ex.Request.Method == "POST" {
			bodies = append(bodies, string(ex.Request.Body.Data)+" "+header(ex.Response.Headers, "X-Got-Length")[0])
		}
	}
	slices.Sort(bodies)
	// The chunked body is recorded de-chunked, and the upstream got it
	// chunked too (no length).
	assert.Equal(t, []string{"abcde -1", "hello 5"}, bodies)
}
