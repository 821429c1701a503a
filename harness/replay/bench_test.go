package replay

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// BenchmarkRunASAP measures the executor's throughput against a loopback
// backend: b.N requests over 50 recorded connections, no timing constraint.
func BenchmarkRunASAP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"ok":1}`)) }))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	src := Exchanges{}
	exs := make([]*rprpb.Exchange, 0, b.N)
	for i := range b.N {
		ex := &rprpb.Exchange{Id: uint64(i + 1), Session: "s" + strconv.Itoa(i%50), ConnectionId: uint64(i%50 + 1),
			Protocol: rprpb.Protocol_PROTOCOL_HTTP1, StartNs: int64(i) * 1000, EndNs: int64(i)*1000 + 500,
			Request: &rprpb.Request{Method: "GET", Path: "/x"}, Response: &rprpb.Response{Status: 200}}
		exs = append(exs, ex)
		src[ex.GetId()] = ex
	}
	p, err := plan.Build(exs)
	if err != nil {
		b.Fatal(err)
	}
	s, err := p.Schedule(plan.ASAP)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	sum, err := Run(context.Background(), s, src, target)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Requests.Sent != b.N || sum.Errors.Total() != 0 {
		b.Fatalf("sent %d of %d, errors %+v", sum.Requests.Sent, b.N, sum.Errors)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkStoreRecorded measures reading one exchange back from a Store:
// a pread and a decode, what every send pays.
func BenchmarkStoreRecorded(b *testing.B) {
	var exs []*rprpb.Exchange
	for i := range 1024 {
		exs = append(exs, ex{id: uint64(i + 1), session: "s" + strconv.Itoa(i%8), conn: uint64(i%8 + 1),
			path: "/v1/items/" + strconv.Itoa(i), query: "view=full&lang=en", startMs: int64(i), endMs: int64(i) + 1,
			reqHeaders: [][2]string{{"Accept", "application/json"}, {"User-Agent", "tester/1.0"},
				{"Authorization", "Bearer x"}, {"X-Session-Id", "s"}, {"Accept-Language", "en"}},
			respBody: `{"id":1,"name":"item","tags":["a","b"]}`}.pb())
	}
	_, s := storeOf(b, exs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.recorded(uint64(i%1024 + 1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunStored measures what one replayed request costs the
// replayer, allocations above all (every byte allocated per request
// brings the next GC cycle closer, and requests due during a cycle go out
// late): requests shaped like bench/cmd/genrec's (five headers, a 1 KiB
// JSON answer) read back from a Store, with results written, against a
// loopback server that allocates nothing per request, so that what
// -benchmem reports is the replayer's.
func BenchmarkRunStored(b *testing.B) {
	const sessions = 64
	target := rawServer(b, fixedResponse)
	exs := make([]*rprpb.Exchange, 0, b.N)
	for i := range b.N {
		sess := "s" + strconv.Itoa(i%sessions)
		exs = append(exs, ex{id: uint64(i + 1), session: sess, conn: uint64(i%sessions + 1),
			path: "/v1/items/" + strconv.Itoa(100000+i), query: "view=full&lang=en", startMs: int64(i), endMs: int64(i),
			reqHeaders: [][2]string{{"User-Agent", "bench-client/1.0 (linux; amd64)"}, {"Accept", "application/json"},
				{"Accept-Language", "en-GB,en;q=0.9"}, {"X-Session", sess}, {"X-Request-Id", "req-" + strconv.Itoa(i)}},
			respHeaders: [][2]string{{"Content-Type", "application/json"}, {"Content-Length", strconv.Itoa(len(benchBody))}},
			respBody:    benchBody}.pb())
	}
	p, st := storeOf(b, exs)
	s, err := p.Schedule(plan.ASAP)
	if err != nil {
		b.Fatal(err)
	}
	exs = nil
	b.ReportAllocs()
	b.ResetTimer()
	sum, err := Run(context.Background(), s, st, target, OutDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	if sum.Requests.Sent != b.N || sum.Errors.Total() != 0 {
		b.Fatalf("sent %d of %d, errors %+v", sum.Requests.Sent, b.N, sum.Errors)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// benchBody is about 1 KiB of JSON, like bench/cmd/backend's answer.
var benchBody = `{"id":123,"name":"Sword of Benchmarks","tags":[` + strings.Repeat(`"tag-00",`, 100) + `"end"]}`

var fixedResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
	strconv.Itoa(len(benchBody)) + "\r\n\r\n" + benchBody

// rawServer answers every request on every connection with resp, reading
// requests as a head up to its blank line (they have no body), allocating
// per connection only.
func rawServer(tb testing.TB, resp string) *url.URL {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br, out := bufio.NewReader(c), []byte(resp)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 { // the blank line ending a head
						if _, err := c.Write(out); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

// storeOf plans exs and stores them, as the replay verb does; the store
// closes with the benchmark.
func storeOf(b *testing.B, exs []*rprpb.Exchange) (*plan.Plan, *Store) {
	b.Helper()
	p, err := plan.Build(exs)
	if err != nil {
		b.Fatal(err)
	}
	s, err := LoadExchanges(context.Background(), records(exs), p)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return p, s
}
