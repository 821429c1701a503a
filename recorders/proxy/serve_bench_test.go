package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// memUpstream answers every request from memory with the bench backend's
// ~1 KiB JSON, so that BenchmarkServeHTTP measures the proxy layer alone,
// without sockets.
type memUpstream struct{ body []byte }

func (u memUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {"application/json"},
			"Content-Length": {strconv.Itoa(len(u.body))},
			"Date":           {"Fri, 27 Nov 2026 13:00:00 GMT"},
		},
		ContentLength: int64(len(u.body)),
		Body:          io.NopCloser(bytes.NewReader(u.body)),
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchBody() []byte {
	var b strings.Builder
	b.WriteString(`{"id":123,"name":"Sword of Benchmarks","price":{"amount":1999,"currency":"EUR"},"tags":[`)
	for i := 0; b.Len() < 960; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"tag-` + strconv.Itoa(i) + `"`)
	}
	b.WriteString(`],"stock":42}`)
	return []byte(b.String())
}

// BenchmarkServeHTTP compares, without sockets, a bare ReverseProxy with the
// recording proxy wired as Recorder wires it (metrics, a queue whose consumer
// redacts and writes a real recording to io.Discard). The figure to compare
// is cpu-ns/op, the process's CPU time per exchange with the consumer's work
// included: on a machine with few cores every CPU-second the consumer spends
// is one the traffic does not get. The difference of the two is what
// recording costs; sockets would only add the same syscalls to both.
func BenchmarkServeHTTP(b *testing.B) {
	up := memUpstream{body: benchBody()}
	u, _ := url.Parse("http://127.0.0.1:9")
	drive := func(b *testing.B, h http.Handler, connCtx func(context.Context) context.Context, drain func()) {
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			ctx := connCtx(context.Background())
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				r, _ := http.NewRequestWithContext(ctx, "GET", "/v1/items/123", nil)
				r.Host = "127.0.0.1:8080"
				r.RemoteAddr = "127.0.0.1:40000"
				r.Header.Set("User-Agent", "Go-http-client/1.1")
				r.Header.Set("Accept-Encoding", "gzip")
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
		drain()
		b.StopTimer()
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}
	b.Run("bare", func(b *testing.B) {
		rp := &httputil.ReverseProxy{
			Rewrite:    func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = r.In.Host },
			Transport:  up,
			BufferPool: &copyBuffers,
		}
		drive(b, rp, func(c context.Context) context.Context { return c }, func() {})
	})
	b.Run("recording", func(b *testing.B) {
		red, err := redact.New(redact.DefaultPolicy())
		if err != nil {
			b.Fatal(err)
		}
		w, err := recording.NewWriter(io.Discard, nil)
		if err != nil {
			b.Fatal(err)
		}
		cr := make(credits, sink.DefaultQueueCapacity/2)
		q := sink.NewQueue(redactSink{r: red, next: cr.give(sink.File{W: w}), recycle: true}, sink.FlushInterval(200*time.Millisecond))
		p, err := New(u, cr.take(q), Metrics(prometheus.NewRegistry()), hideSessionKeys(red))
		if err != nil {
			b.Fatal(err)
		}
		p.rp.Transport = up
		drive(b, p, func(c context.Context) context.Context { return p.ConnContext(c, nil) },
			func() { _ = q.Close(context.Background()) })
		_ = w.Close()
	})
}

// credits keeps the benchmark from outrunning the queue's consumer: a writer
// takes a credit before handing a record over and the consumer gives it back
// once the record is written, so every record is paid for, none is dropped,
// and nobody spins while waiting.
type credits chan struct{}

// take is the proxy-side sink: it blocks while too many records wait.
func (c credits) take(q sink.Sink) sink.Sink {
	return sink.Func(func(ctx context.Context, rec *rprpb.Record) error {
		c <- struct{}{}
		return q.Write(ctx, rec)
	})
}

// give wraps the consumer's sink.
func (c credits) give(next sink.Sink) sink.Sink {
	return sink.Func(func(ctx context.Context, rec *rprpb.Record) error {
		defer func() { <-c }()
		return next.Write(ctx, rec)
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
