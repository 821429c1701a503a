package redact

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// typicalExchange is an API call with about 1 KiB of JSON each way, a bearer
// token, a cookie and a query: what the proxy sees most.
func typicalExchange() *rprpb.Exchange {
	var items []string
	for i := range 12 {
		items = append(items, fmt.Sprintf(`{"id":%d,"sku":"item-%04d","price":%d.99,"tags":["a","b"]}`, i, i, i+3))
	}
	respBody := `{"order":{"id":"ord-1","email":"tester@example.com","items":[` + strings.Join(items, ",") + `]},"token":"next-page-token"}`
	reqBody := `{"cart":"c-77","password":"hunter2","items":[` + strings.Join(items[:6], ",") + `]}`
	return &rprpb.Exchange{
		Session: "s-1", SessionSource: "header:x-session-id",
		Request: &rprpb.Request{
			Method: "POST", Path: "/api/orders", RawQuery: "page=2&token=abcdef&limit=50",
			Headers: []*rprpb.Header{
				hdr("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig"),
				hdr("Cookie", "theme=dark; sid=0123456789abcdef"),
				hdr("Content-Type", "application/json"),
				hdr("User-Agent", "reprise-bench/1"),
				hdr("Accept", "application/json"),
			},
			Body: &rprpb.Body{Data: []byte(reqBody), Size: int64(len(reqBody))},
		},
		Response: &rprpb.Response{
			Status: 200,
			Headers: []*rprpb.Header{
				hdr("Content-Type", "application/json; charset=utf-8"),
				hdr("Set-Cookie", "sid=fedcba9876543210; Path=/; HttpOnly"),
				hdr("Cache-Control", "no-store"),
			},
			Body: &rprpb.Body{Data: []byte(respBody), Size: int64(len(respBody))},
		},
	}
}

func BenchmarkExchange(b *testing.B) {
	r := newTestRedactor(b)
	tmpl := typicalExchange()
	b.SetBytes(int64(len(tmpl.Request.Body.Data) + len(tmpl.Response.Body.Data)))
	exs := make([]*rprpb.Exchange, b.N)
	for i := range exs {
		exs[i] = proto.Clone(tmpl).(*rprpb.Exchange)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Exchange(exs[i])
	}
}

func BenchmarkExchangeGzip(b *testing.B) {
	r := newTestRedactor(b)
	tmpl := typicalExchange()
	tmpl.Response.Headers = append(tmpl.Response.Headers, hdr("Content-Encoding", "gzip"))
	tmpl.Response.Body.Data = gzipBytes(b, tmpl.Response.Body.Data)
	exs := make([]*rprpb.Exchange, b.N)
	for i := range exs {
		exs[i] = proto.Clone(tmpl).(*rprpb.Exchange)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Exchange(exs[i])
	}
}
