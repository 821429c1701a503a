package http_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// FuzzH1Response feeds arbitrary server bytes to the direct client: it
// answers or fails, never panics or hangs, and keeps its counts straight.
func FuzzH1Response(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil eof",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort",
		"HTTP/1.1 2000 OK\r\n\r\n", "garbage", "",
	} {
		f.Add([]byte(s), uint8(3))
	}
	u, err := url.Parse("http://fuzz.invalid")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, resp []byte, limit uint8) {
		tg := protocol.Target{URL: u, MaxBody: int(limit) + 1}
		c := httpcodec.DialWith(tg, func(context.Context) (net.Conn, error) {
			client, server := net.Pipe()
			go func() {
				defer server.Close()
				if _, ok := readRequest(bufio.NewReader(server)); ok {
					_, _ = server.Write(resp)
				}
			}()
			return client, nil
		})
		defer c.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		for range 2 {
			rep, err := c.Do(ctx, newCall("GET", "/", nil, nil))
			require.NotErrorIs(t, err, context.DeadlineExceeded, "hung")
			require.LessOrEqual(t, len(rep.Body), tg.MaxBody)
			require.GreaterOrEqual(t, rep.Size, int64(len(rep.Body)))
			if err == nil { // "000" parses as 0, as it does for Transport
				require.True(t, rep.Status >= 0 && rep.Status <= 999, "status %d", rep.Status)
				require.LessOrEqual(t, rep.Sent, rep.FirstByte)
				require.LessOrEqual(t, rep.FirstByte, rep.Done)
			}
		}
	})
}

// BenchmarkDoHTTP1 compares the direct client with the Transport-based one
// against a loopback server: one connection calling in turn (latency), and
// one connection per goroutine calling at once (the cost that caps the
// request rate when the CPU is the limit).
func BenchmarkDoHTTP1(b *testing.B) {
	srv := httptestServer(b)
	u, err := url.Parse(srv.URL)
	require.NoError(b, err)
	tg := protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_HTTP1}
	do := func(b *testing.B, c protocol.Conn, call *protocol.Call) {
		ctx, cancel := context.WithTimeout(b.Context(), time.Minute) // as the replayer gives each call
		_, err := c.Do(ctx, call)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
	newCall := func() *protocol.Call {
		return newCall("POST", "/api/items", []byte(`{"id":1}`), http.Header{"Content-Type": {"application/json"}})
	}
	for _, client := range []struct {
		name string
		dial func() protocol.Conn
	}{
		{"direct", func() protocol.Conn { c, _ := httpcodec.Codec{}.Dial(tg); return c }},
		{"transport", func() protocol.Conn { return httpcodec.DialTransport(tg) }},
	} {
		b.Run(client.name, func(b *testing.B) {
			c := client.dial()
			defer c.Close()
			call := newCall()
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				do(b, c, call)
			}
			reportCPU(b, cpu)
		})
		b.Run(client.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			cpu := cpuTime()
			defer reportCPU(b, cpu)
			b.RunParallel(func(pb *testing.PB) {
				c := client.dial()
				defer c.Close()
				call := newCall()
				for pb.Next() {
					do(b, c, call)
				}
			})
		})
	}
}

// reportCPU reports the process's CPU time per op since cpu, the server's
// included: on a shared, noisy machine it tells the clients' costs apart
// better than wall time does.
func reportCPU(b *testing.B, cpu time.Duration) {
	if used := cpuTime() - cpu; used > 0 && b.N > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// httptestServer answers every request with a small JSON body.
func httptestServer(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"name":"item","price":42}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}
