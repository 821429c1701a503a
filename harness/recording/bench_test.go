package recording_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// The benchmarks compare .rpr with the JSON Lines of the same records (the
// jsonl interchange, which is encoding/json over hand-written view structs).
// Each reports records/s and the encoded bytes per record, so the ratios the
// design cares about can be read off one run:
//
//	go test -run '^$' -bench 'Encode|Decode' ./harness/recording/

// realisticExchange is a typical API call: about ten headers each way, a
// small JSON request and a ~1 KiB JSON response that differ from call to
// call the way real ones do.
func realisticExchange(i int) *rprpb.Record {
	items := make([]string, 0, 8)
	for k := 0; k < 8; k++ {
		items = append(items, fmt.Sprintf(`{"sku":"item_%06x","name":"Sword of the %d-th dawn","qty":%d,"price_cents":%d}`, i*31+k, k, 1+(i+k)%5, 199+(i*k)%9000))
	}
	resp := fmt.Sprintf(`{"order_id":"ord-20260301-%07d","player":"p%05d","status":"confirmed","items":[%s],"total_cents":%d}`,
		i, i%5000, strings.Join(items, ","), 1000+i%77777)
	req := fmt.Sprintf(`{"player":"p%05d","cart":"cart-%08x","coupon":null,"client_ts":%d}`, i%5000, i*2654435761, 1772357400000+int64(i))
	hdr := func(n, v string) *rprpb.Header { return &rprpb.Header{Name: n, Values: []string{v}} }
	start := int64(i) * 1_713_000
	return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: &rprpb.Exchange{
		Id: uint64(i), Session: fmt.Sprintf("p%05d", i%5000), SessionSource: "jwt-sub",
		ConnectionId: uint64(i / 20), Protocol: rprpb.Protocol_PROTOCOL_HTTP1, ClientAddr: fmt.Sprintf("10.0.%d.%d:5%04d", i%7, i%250, i%10000),
		StartNs: start, FirstByteNs: start + 2_100_000 + int64(i%977)*1000, EndNs: start + 2_400_000 + int64(i%977)*1100,
		Request: &rprpb.Request{
			Method: "POST", Scheme: "https", Host: "api.example.test", Path: fmt.Sprintf("/v1/players/p%05d/orders", i%5000),
			Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{
				hdr("Host", "api.example.test"), hdr("User-Agent", "GameClient/1.4.2 (Windows NT 10.0; x64)"),
				hdr("Accept", "application/json"), hdr("Accept-Encoding", "gzip, deflate, br"),
				hdr("Content-Type", "application/json"), hdr("Content-Length", fmt.Sprint(len(req))),
				hdr("Authorization", "Bearer rpr-redacted-"+fmt.Sprintf("%024x", i%5000)),
				hdr("X-Request-Id", fmt.Sprintf("%032x", i*7919)), hdr("X-Client-Build", "1.4.2+g3f9a2c1"),
				hdr("Traceparent", fmt.Sprintf("00-%032x-%016x-01", i*104729, i*31)),
			},
			Body: &rprpb.Body{Data: []byte(req), Size: int64(len(req))},
		},
		Response: &rprpb.Response{
			Status: 201, Proto: "HTTP/1.1",
			Headers: []*rprpb.Header{
				hdr("Content-Type", "application/json; charset=utf-8"), hdr("Content-Length", fmt.Sprint(len(resp))),
				hdr("Date", "Sun, 01 Mar 2026 09:30:00 GMT"), hdr("Cache-Control", "no-store"),
				hdr("Location", fmt.Sprintf("/v1/orders/ord-20260301-%07d", i)), hdr("X-Request-Id", fmt.Sprintf("%032x", i*7919)),
				hdr("Server-Timing", fmt.Sprintf("db;dur=%d.%d, app;dur=%d", i%40, i%10, i%90)), hdr("Vary", "Accept-Encoding"),
				hdr("Strict-Transport-Security", "max-age=63072000"), hdr("Etag", fmt.Sprintf(`W/"%x"`, i*65537)),
			},
			Body: &rprpb.Body{Data: []byte(resp), Size: int64(len(resp))},
		},
	}}}
}

// corpus is a fixed set of distinct records the benchmarks cycle through.
func corpus(n int) []*rprpb.Record {
	out := make([]*rprpb.Record, n)
	for i := range out {
		out[i] = realisticExchange(i)
	}
	return out
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func reportRate(b *testing.B, records int, bytes int64) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(bytes)/float64(records), "bytes/record")
}

func BenchmarkEncode(b *testing.B) {
	recs := corpus(1000)
	b.Run("rpr", func(b *testing.B) {
		cw := &countingWriter{}
		w, err := recording.NewWriter(cw, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for b.Loop() {
			if err := w.Write(recs[n%len(recs)]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		reportRate(b, n, cw.n)
	})
	b.Run("jsonl", func(b *testing.B) {
		cw := &countingWriter{}
		enc := jsonl.NewEncoder(cw)
		if err := enc.EncodeHeader(&rprpb.FileHeader{FormatVersion: 1}); err != nil {
			b.Fatal(err)
		}
		n := 0
		for b.Loop() {
			if err := enc.Encode(recs[n%len(recs)]); err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportRate(b, n, cw.n)
	})
}

func BenchmarkDecode(b *testing.B) {
	recs := corpus(1000)
	var rpr, jl bytes.Buffer
	w, err := recording.NewWriter(&rpr, nil)
	if err != nil {
		b.Fatal(err)
	}
	enc := jsonl.NewEncoder(&jl)
	if err := enc.EncodeHeader(&rprpb.FileHeader{FormatVersion: 1}); err != nil {
		b.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := enc.Encode(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}

	// Each pass decodes the whole corpus, so the cost of opening a reader is
	// spread as it is over a real file.
	b.Run("rpr", func(b *testing.B) {
		n := 0
		for b.Loop() {
			r, err := recording.NewReader(bytes.NewReader(rpr.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			r.Close()
		}
		reportRate(b, n, int64(rpr.Len())*int64(n/len(recs)))
	})
	b.Run("jsonl", func(b *testing.B) {
		n := 0
		for b.Loop() {
			dec := jsonl.NewDecoder(bytes.NewReader(jl.Bytes()))
			for {
				_, err := dec.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		reportRate(b, n, int64(jl.Len())*int64(n/len(recs)))
	})
}
