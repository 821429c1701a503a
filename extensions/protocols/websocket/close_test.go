package websocket

import (
	"context"
	"net/http"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/protocol"
)

// TestCloseReadsTheReplyToTheLastFrame: the recorded close follows a
// frame at once, so it goes out before the server's reply to that frame
// arrives. The reply is a server frame like any other: it reaches
// OnMessage and the Reply, and the call ends with the close handshake,
// not at its timeout.
func TestCloseReadsTheReplyToTheLastFrame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := serve(t, func(c *cws.Conn, _ *http.Request) {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return // our close frame (answered by the library) or a failure
			}
			if c.Write(ctx, cws.MessageText, append([]byte("re:"), b...)) != nil {
				return
			}
		}
	})
	var seen []string
	rep, err := dial(t, u).Do(ctx, call(&seen,
		protocol.OutMessage{Opcode: 1, Data: []byte("hello")},
		protocol.OutMessage{Opcode: 8, Data: []byte{0x03, 0xe8}}, // the recorded close, at the same offset
	))
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "ended by the close handshake, not the timeout")
	assert.Equal(t, []string{"re:hello"}, seen)
	assert.Len(t, rep.Messages, 1)
	assert.Equal(t, int64(len("re:hello")), rep.Size)
}
