package http_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpcodec "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// A stream reset after some of the body is a failed body whether the reset
// comes before or past the bytes the driver keeps (MaxBody): past them,
// the rest is only counted, and its failure used to be dropped, so a cut
// answer read as a clean 200.
func TestH2CBodyResetIsAnErrorPastTheKeptBytesToo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 64<<10)))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // RST_STREAM before the end of the body
	}), Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })

	for _, limit := range []int{1 << 20, 1024} {
		c, err := httpcodec.Codec{}.Dial(protocol.Target{URL: &url.URL{Scheme: "http", Host: l.Addr().String()},
			Protocol: rprpb.Protocol_PROTOCOL_H2C, MaxBody: limit})
		require.NoError(t, err)
		rep, err := c.Do(context.Background(), newCall("GET", "/", nil, nil))
		require.Error(t, err, "MaxBody %d", limit)
		assert.Contains(t, err.Error(), "read body", "MaxBody %d", limit)
		assert.Equal(t, http.StatusOK, rep.Status, "the status did come")
		require.NoError(t, c.Close())
	}
}
