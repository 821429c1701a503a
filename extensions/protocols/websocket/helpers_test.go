package websocket

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// serve starts a loopback WebSocket server whose every connection is
// handed to handle, and returns its URL.
func serve(t *testing.T, handle func(c *cws.Conn, r *http.Request)) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		handle(c, r)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u
}

// dial returns the driver's connection to u, closed when the test ends.
func dial(t *testing.T, u *url.URL) protocol.Conn {
	t.Helper()
	c, err := Codec{}.Dial(protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// call is a socket held up to 10 s on /ws, clocked from now, whose server
// frames' bytes are appended to seen.
func call(seen *[]string, msgs ...protocol.OutMessage) *protocol.Call {
	t0 := time.Now()
	return &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET, Method: "GET", Path: "/ws",
		Hold: 10 * time.Second, Clock: func() time.Duration { return time.Since(t0) }, Messages: msgs,
		OnMessage: func(_ int, m *rprpb.Message) { *seen = append(*seen, string(m.GetData())) }}
}
