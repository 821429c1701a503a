package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// BenchmarkProxy compares a bare httputil.ReverseProxy with the recording
// proxy (capture, queue, redaction and a real file) on the same loopback
// upstream, so the ratio of the two ns/op is the cost of recording.
func BenchmarkProxy(b *testing.B) {
	body := strings.Repeat(`{"id":123,"name":"item"}`, 40) // ~1 KiB JSON
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)

	run := func(b *testing.B, base string) {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(base+"/v1/items/123?x=1", "application/json", strings.NewReader(`{"q":"abc"}`))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}

	b.Run("bare", func(b *testing.B) {
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
		defer rp.Transport.(*http.Transport).CloseIdleConnections()
		srv := httptest.NewServer(rp)
		defer srv.Close()
		run(b, srv.URL)
	})
	b.Run("recording", func(b *testing.B) {
		r := proxytest.StartRun(b, up.URL)
		run(b, r.URL)
		b.StopTimer()
		r.Stop()
	})
}
