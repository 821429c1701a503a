package proxy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// wsEcho echoes every message back with its type.
func wsEcho(mode websocket.CompressionMode) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode})
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, b); err != nil {
				return
			}
		}
	})
}

func wsDial(t *testing.T, url string, mode websocket.CompressionMode) *websocket.Conn {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, resp, err := websocket.Dial(testCtx(t), "ws"+strings.TrimPrefix(url, "http")+"/ws?room=1",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}, CompressionMode: mode})
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	c.SetReadLimit(1 << 20)
	return c
}

type wsMsg struct {
	typ  websocket.MessageType
	data []byte
}

var wsScript = []wsMsg{
	{websocket.MessageText, []byte(`{"hello":"world"}`)},
	{websocket.MessageBinary, pattern(300)},       // 16-bit length
	{websocket.MessageBinary, pattern(70000)},     // 64-bit length
	{websocket.MessageText, []byte("")},           // empty frame
	{websocket.MessageText, []byte("last words")}, //
}

func exchangeScript(t *testing.T, c *websocket.Conn) {
	ctx := testCtx(t)
	for _, m := range wsScript {
		require.NoError(t, c.Write(ctx, m.typ, m.data))
		typ, b, err := c.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, m.typ, typ)
		assert.Equal(t, m.data, b, "echoed through the proxy")
	}
	require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
}

func TestWebSocketRecordedAsOneExchange(t *testing.T) {
	up := httptest.NewServer(wsEcho(websocket.CompressionDisabled))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	exchangeScript(t, wsDial(t, run.URL, websocket.CompressionDisabled))

	exs := run.Stop()
	require.Len(t, exs, 1)
	ex := exs[0]
	assert.Equal(t, rprpb.Protocol_PROTOCOL_WEBSOCKET, ex.Protocol)
	assert.Equal(t, int32(101), ex.Response.Status)
	assert.Equal(t, "/ws", ex.Request.Path)
	assert.Equal(t, "room=1", ex.Request.RawQuery)
	assert.Equal(t, []string{"websocket"}, header(ex.Request.Headers, "Upgrade"))
	assertTimings(t, ex)
	ws := ex.Websocket
	require.NotNil(t, ws)
	assert.False(t, ws.Opaque)

	// Each message both ways, then the close handshake.
	require.Len(t, ws.Messages, 2*len(wsScript)+2)
	var prev int64
	var c2s, s2c int64
	for i, m := range ws.Messages {
		assert.GreaterOrEqual(t, m.AtNs, prev, "frame %d time", i)
		assert.GreaterOrEqual(t, m.AtNs, ex.FirstByteNs)
		assert.LessOrEqual(t, m.AtNs, ex.EndNs)
		prev = m.AtNs
		if i < 2*len(wsScript) {
			want := wsScript[i/2]
			wantDir := rprpb.Direction_DIRECTION_REQUEST
			if i%2 == 1 {
				wantDir = rprpb.Direction_DIRECTION_RESPONSE
			}
			assert.Equal(t, wantDir, m.Direction, "frame %d direction", i)
			assert.EqualValues(t, want.typ, m.Opcode, "frame %d opcode", i)
			assert.Equal(t, len(want.data), len(m.Data), "frame %d length", i)
			assert.Equal(t, string(want.data), string(m.Data), "frame %d payload, unmasked", i)
			assert.EqualValues(t, len(want.data), m.Size)
		}
		if m.Direction == rprpb.Direction_DIRECTION_REQUEST {
			c2s += m.Size
		} else {
			s2c += m.Size
		}
	}
	closes := ws.Messages[2*len(wsScript):]
	for _, m := range closes {
		assert.EqualValues(t, 8, m.Opcode, "close frames end the conversation")
	}
	assert.Equal(t, rprpb.Direction_DIRECTION_REQUEST, closes[0].Direction)
	assert.Equal(t, "bye", string(closes[0].Data[2:]), "close payload: status code then reason")
	assert.Greater(t, ws.BytesClientToServer, c2s, "byte counts include frame headers")
	assert.Greater(t, ws.BytesServerToClient, s2c)
}

func TestWebSocketWithCompressionIsOpaque(t *testing.T) {
	up := httptest.NewServer(wsEcho(websocket.CompressionContextTakeover))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	exchangeScript(t, wsDial(t, run.URL, websocket.CompressionContextTakeover))

	exs := run.Stop()
	require.Len(t, exs, 1)
	ws := exs[0].Websocket
	require.NotNil(t, ws)
	assert.NotEmpty(t, header(exs[0].Response.Headers, "Sec-Websocket-Extensions"))
	assert.True(t, ws.Opaque)
	assert.Empty(t, ws.Messages)
	assert.Positive(t, ws.BytesClientToServer)
	assert.Positive(t, ws.BytesServerToClient)
}

func TestWebSocketOpenAtShutdownIsClosedAndRecorded(t *testing.T) {
	up := httptest.NewServer(wsEcho(websocket.CompressionDisabled))
	defer up.Close()
	run := proxytest.StartRun(t, up.URL)
	c := wsDial(t, run.URL, websocket.CompressionDisabled)
	defer c.CloseNow()
	ctx := testCtx(t)
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("still here")))
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, "still here", string(b))

	exs := run.Stop() // the connection is still open: shutdown must end it
	require.Len(t, exs, 1)
	require.Len(t, exs[0].Websocket.Messages, 2)
	assert.Equal(t, "still here", string(exs[0].Websocket.Messages[1].Data))
	_, _, err = c.Read(ctx)
	assert.Error(t, err, "the client sees the connection end")
}
