package replay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// wsSeen is what the WebSocket test server received.
type wsSeen struct {
	mu       sync.Mutex
	sessions []string // the session ids "use" frames carried
	headers  []http.Header
}

func (s *wsSeen) used() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sessions...)
}

// wsServer answers {"op":"login"} with a live session id and notes the id
// each {"op":"use"} sends back.
func wsServer(t *testing.T) (*url.URL, *wsSeen) {
	t.Helper()
	var seen wsSeen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.headers = append(seen.headers, r.Header.Clone())
		seen.mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return // the client's close (answered by the library) or a failure
			}
			var m map[string]string
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			switch m["op"] {
			case "login":
				err = c.Write(ctx, websocket.MessageText, []byte(`{"session":"sess-LIVE-77001"}`))
			case "use":
				seen.mu.Lock()
				seen.sessions = append(seen.sessions, m["session"])
				seen.mu.Unlock()
				err = c.Write(ctx, websocket.MessageText, []byte(`{"ok":true}`))
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u, &seen
}

type wsFrame struct {
	resp   bool
	atMs   int64
	opcode uint32
	data   string
}

func wsEx(id uint64, session string, conn uint64, startMs, endMs int64, frames ...wsFrame) *rprpb.Exchange {
	w := &rprpb.WebSocket{}
	for _, f := range frames {
		dir := rprpb.Direction_DIRECTION_REQUEST
		if f.resp {
			dir = rprpb.Direction_DIRECTION_RESPONSE
		}
		w.Messages = append(w.Messages, &rprpb.Message{Direction: dir, AtNs: f.atMs * int64(time.Millisecond),
			Data: []byte(f.data), Size: int64(len(f.data)), Opcode: f.opcode})
	}
	return &rprpb.Exchange{Id: id, Session: session, ConnectionId: conn, Protocol: rprpb.Protocol_PROTOCOL_WEBSOCKET,
		StartNs: startMs * int64(time.Millisecond), EndNs: endMs * int64(time.Millisecond),
		Request: &rprpb.Request{Method: "GET", Path: "/ws", Headers: []*rprpb.Header{
			{Name: "Upgrade", Values: []string{"websocket"}}, {Name: "Connection", Values: []string{"Upgrade"}},
			{Name: "Sec-WebSocket-Key", Values: []string{"dGhlIHNhbXBsZSBub25jZQ=="}},
			{Name: "Sec-WebSocket-Version", Values: []string{"13"}},
			{Name: "X-Session-Id", Values: []string{session}}}},
		Response: &rprpb.Response{Status: 101}, Websocket: w}
}

const closeNormal = "\x03\xe8"

// loginThenUse is a recording of two sockets: the first logs in and is
// issued a session id (after a ping, which the live side never reports as
// a data frame); the second sends it back. On replay the server issues
// another id.
func loginThenUse() []*rprpb.Exchange {
	return []*rprpb.Exchange{
		wsEx(1, "a", 1, 0, 40,
			wsFrame{atMs: 5, opcode: 1, data: `{"op":"login","user":"ana"}`},
			wsFrame{resp: true, atMs: 6, opcode: 9},
			wsFrame{resp: true, atMs: 8, opcode: 1, data: `{"session":"sess-REC-41001"}`},
			wsFrame{atMs: 30, opcode: 8, data: closeNormal},
			wsFrame{resp: true, atMs: 31, opcode: 8, data: closeNormal}),
		wsEx(2, "a", 2, 50, 120,
			wsFrame{atMs: 60, opcode: 1, data: `{"op":"use","session":"sess-REC-41001"}`},
			wsFrame{resp: true, atMs: 62, opcode: 1, data: `{"ok":true}`},
			wsFrame{atMs: 100, opcode: 8, data: closeNormal}),
	}
}

func TestWebSocketReplayCarriesLiveValue(t *testing.T) {
	target, seen := wsServer(t)
	s, src := schedule(t, plan.Causal, 1, loginThenUse()...)
	p := s.Plan()
	require.Len(t, p.Correlations, 1)
	assert.Equal(t, plan.PartWebSocket, p.Correlations[0].Source.At.Part)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"sess-LIVE-77001"}, seen.used(), "the live id went out in the second socket's frame")
	assert.Equal(t, 1, sum.Correlations.Applied)
	assert.Zero(t, sum.Errors.Total(), "%+v", sum.Errors)
	res := resultsByID(t, dir)
	for id, r := range res {
		assert.Empty(t, r.GetError(), "exchange %d", id)
		assert.Equal(t, int32(101), r.GetStatus(), "exchange %d", id)
		assert.Equal(t, int32(-1), r.GetGrpcStatus())
		assert.False(t, r.GetDiff().GetStatusClassChanged())
	}
	// The second socket stayed open until its recorded close, 50 ms in.
	assert.GreaterOrEqual(t, time.Duration(res[2].GetDoneNs()-res[2].GetSentNs()), 45*time.Millisecond)
	seen.mu.Lock()
	defer seen.mu.Unlock()
	require.Len(t, seen.headers, 2)
	assert.Equal(t, "a", seen.headers[0].Get("X-Session-Id"), "recorded handshake headers replayed")
	assert.NotEqual(t, "dGhlIHNhbXBsZSBub25jZQ==", seen.headers[0].Get("Sec-WebSocket-Key"), "a fresh key")
}

// TestWebSocketReplayCapturesReplyRacingTheClose: sped up 10000 times,
// the first socket's close goes out right after its login, before the
// server's answer is read (as on a loaded machine, where the handshake
// takes longer than the 25 ms between them). The answer still reaches the
// capture: the close handshake reads every server frame up to the
// server's close.
func TestWebSocketReplayCapturesReplyRacingTheClose(t *testing.T) {
	target, seen := wsServer(t)
	s, src := schedule(t, plan.Causal, 10000, loginThenUse()...)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"sess-LIVE-77001"}, seen.used(), "the live id went out in the second socket's frame")
	assert.Equal(t, 1, sum.Correlations.Applied)
	for id, r := range resultsByID(t, dir) {
		assert.Empty(t, r.GetError(), "exchange %d", id)
		assert.Positive(t, r.GetDiff().GetBodySizeRatio(), "exchange %d: the server's frame was read", id)
	}
}

func TestWebSocketHeldOpenWithoutRecordedClose(t *testing.T) {
	target, _ := wsServer(t)
	// No close frame was recorded: the socket stays open for the recorded
	// duration ÷ speed (200 ms ÷ 2), then closes normally.
	s, src := schedule(t, plan.ASAP, 2,
		wsEx(1, "a", 1, 0, 200, wsFrame{atMs: 5, opcode: 1, data: `{"op":"login"}`}),
	)
	dir := t.TempDir()
	_, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	r := resultsByID(t, dir)[1]
	assert.Empty(t, r.GetError())
	held := time.Duration(r.GetDoneNs() - r.GetSentNs())
	assert.GreaterOrEqual(t, held, 95*time.Millisecond)
	assert.Less(t, held, 3*time.Second, "closed at the end of the hold, not at the timeout")
	assert.InDelta(t, 0, r.GetDiff().GetBodySizeRatio(), 0, "no server frame was recorded")
}
