package websocket

import (
	"context"
	"fmt"
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

// TestDiscardMessageData: with DiscardMessageData the driver hands every
// server frame, bytes included, to OnMessage and keeps only its metadata;
// without it the bytes stay in the Reply.
func TestDiscardMessageData(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := cws.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for i := range 3 {
			if err := c.Write(r.Context(), cws.MessageText, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
				return
			}
		}
		_ = c.Close(cws.StatusNormalClosure, "done")
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	for _, discard := range []bool{true, false} {
		t.Run(fmt.Sprint("discard=", discard), func(t *testing.T) {
			c, err := Codec{}.Dial(protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET})
			require.NoError(t, err)
			defer c.Close()
			t0 := time.Now()
			var seen []string
			call := &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET, Method: "GET", Path: "/ws",
				Hold: 10 * time.Second, Clock: func() time.Duration { return time.Since(t0) },
				DiscardMessageData: discard,
				OnMessage:          func(_ int, m *rprpb.Message) { seen = append(seen, string(m.GetData())) }}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rep, err := c.Do(ctx, call)
			require.NoError(t, err)
			assert.Equal(t, []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}, seen, "OnMessage saw every frame's bytes")
			require.Len(t, rep.Messages, 3)
			for _, m := range rep.Messages {
				assert.Equal(t, int64(7), m.GetSize())
				assert.Equal(t, discard, m.GetData() == nil, "data kept only without discard")
			}
		})
	}
}
