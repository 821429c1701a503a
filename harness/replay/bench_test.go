package replay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
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
	p, err := plan.Build(exs)
	if err != nil {
		b.Fatal(err)
	}
	s, err := LoadExchanges(context.Background(), records(exs), p)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.recorded(uint64(i%1024 + 1)); err != nil {
			b.Fatal(err)
		}
	}
}
