package websocket

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	cws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiscardMessageData: with DiscardMessageData the driver hands every
// server frame, bytes included, to OnMessage and keeps only its metadata;
// without it the bytes stay in the Reply.
func TestDiscardMessageData(t *testing.T) {
	u := serve(t, func(c *cws.Conn, r *http.Request) {
		for i := range 3 {
			if err := c.Write(r.Context(), cws.MessageText, fmt.Appendf(nil, `{"n":%d}`, i)); err != nil {
				return
			}
		}
		_ = c.Close(cws.StatusNormalClosure, "done")
	})
	for _, discard := range []bool{true, false} {
		t.Run(fmt.Sprint("discard=", discard), func(t *testing.T) {
			var seen []string
			cl := call(&seen)
			cl.DiscardMessageData = discard
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rep, err := dial(t, u).Do(ctx, cl)
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
