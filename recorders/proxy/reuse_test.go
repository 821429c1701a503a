package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// TestBodiesSurviveBufferReuse sends many distinct bodies of every size
// class at once, known length and chunked: capture buffers are reused once a
// record is in the file, and a buffer handed back too early would show up
// as one exchange recorded with another's bytes.
func TestBodiesSurviveBufferReuse(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(bytes.ToUpper(body))
	}))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	const workers, each = 8, 40
	body := func(w, i int) []byte {
		n := 1 + (w*each+i)*997%70000 // 1 B to ~70 KiB: every pool class and past it
		tok := fmt.Sprintf("w%di%d.", w, i)
		return bytes.Repeat([]byte(tok), n/len(tok)+1)[:n]
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := h1Client(t)
			for i := range each {
				b := body(w, i)
				var rd io.Reader = bytes.NewReader(b)
				if i%2 == 1 {
					rd = chunked(b)
				}
				// A failed exchange is reported and the worker goes on, so
				// that the records still account for every request sent.
				r, err := tryDo(c, newReq(t, "POST", fmt.Sprintf("%s/r?w=%d&i=%d", run.URL, w, i), rd))
				if assert.NoError(t, err, "w=%d i=%d", w, i) {
					assert.Equal(t, bytes.ToUpper(b), r.Body)
				}
			}
		})
	}
	wg.Wait()
	exs := run.Stop()
	require.Len(t, exs, workers*each)
	for _, ex := range exs {
		var w, i int
		_, err := fmt.Sscanf(strings.ReplaceAll(ex.Request.RawQuery, "&", " "), "w=%d i=%d", &w, &i)
		require.NoError(t, err)
		want := body(w, i)
		require.Equal(t, want, ex.Request.Body.Data, "request w=%d i=%d", w, i)
		require.Equal(t, bytes.ToUpper(want), ex.Response.Body.Data, "response w=%d i=%d", w, i)
	}
}
