package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// TestCloseReadsTheReplyToTheLastFrame: the recorded close follows a
// frame at once, so it goes out before the server's reply to that frame
// arrives. The reply is a server frame like any other: it reaches
// OnMessage and the Reply, and the call ends with the close handshake,
// not at its timeout.
func TestCloseReadsTheReplyToTheLastFrame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return // our close frame (answered by the library) or a failure
			}
			if c.Write(ctx, cws.MessageText, append([]byte("re:"), b...)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	c, err := Codec{}.Dial(protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET})
	require.NoError(t, err)
	defer c.Close()

	t0 := time.Now()
	var seen []string
	call := &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET, Method: "GET", Path: "/ws",
		Hold: 10 * time.Second, Clock: func() time.Duration { return time.Since(t0) },
		Messages: []protocol.OutMessage{
			{Opcode: 1, Data: []byte("hello")},
			{Opcode: 8, Data: []byte{0x03, 0xe8}}, // the recorded close, at the same offset
		},
		OnMessage: func(_ int, m *rprpb.Message) { seen = append(seen, string(m.GetData())) }}
	rep, err := c.Do(ctx, call)
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "ended by the close handshake, not the timeout")
	assert.Equal(t, []string{"re:hello"}, seen)
	assert.Len(t, rep.Messages, 1)
	assert.Equal(t, int64(len("re:hello")), rep.Size)
}
