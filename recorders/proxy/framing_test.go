package proxy

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func testExchange(bodyCap int64) *exchange {
	p := &Proxy{bodyCap: bodyCap, exchangeCap: 1 << 20, maxMessages: 1000}
	return &exchange{p: p, budget: p.exchangeCap}
}

func grpcFrame(compressed bool, msg []byte) []byte {
	b := []byte{0, 0, 0, 0, 0}
	if compressed {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

// feedSplit feeds b in pieces whose sizes come from splits (cycled).
func feedSplit(g *grpcCapture, x *exchange, dir rprpb.Direction, b []byte, splits []byte) {
	for i := 0; len(b) > 0; i++ {
		n := len(b)
		if len(splits) > 0 {
			n = min(n, int(splits[i%len(splits)])+1)
		}
		g.feed(x, dir, b[:n], 0)
		b = b[n:]
	}
}

func TestGRPCFramerSplitsAnywhere(t *testing.T) {
	var wire []byte
	msgs := [][]byte{[]byte("hello"), {}, make([]byte, 300), []byte("x")}
	for i, m := range msgs {
		wire = append(wire, grpcFrame(i == 2, m)...)
	}
	for split := 1; split <= len(wire); split++ {
		x := testExchange(100)
		g := &grpcCapture{}
		feedSplit(g, x, rprpb.Direction_DIRECTION_REQUEST, wire, []byte{byte(split - 1)})
		require.Len(t, g.msgs, len(msgs), "split %d", split)
		for i, m := range g.msgs {
			assert.EqualValues(t, len(msgs[i]), m.Size)
			assert.Equal(t, i == 2, m.Compressed)
			want := msgs[i]
			if len(want) > 100 {
				want = want[:100]
				assert.True(t, m.Truncated)
			}
			assert.Equal(t, string(want), string(m.Data))
		}
		assert.Equal(t, len(msgs), g.req.count)
	}
}

func TestGRPCFramerStopsOnGarbage(t *testing.T) {
	x := testExchange(100)
	g := &grpcCapture{}
	g.feed(x, rprpb.Direction_DIRECTION_RESPONSE, []byte("HTTP/1.1 200 OK\r\n"), 0)
	assert.True(t, g.resp.broken)
	assert.True(t, g.resp.lossy)
	assert.Empty(t, g.msgs)
}

func TestGRPCExchangeBudget(t *testing.T) {
	x := testExchange(100)
	x.budget = 150
	g := &grpcCapture{}
	for range 3 {
		g.feed(x, rprpb.Direction_DIRECTION_REQUEST, grpcFrame(false, make([]byte, 80)), 0)
	}
	require.Len(t, g.msgs, 3)
	assert.Len(t, g.msgs[0].Data, 80)
	assert.Len(t, g.msgs[1].Data, 70, "the exchange budget runs out mid-message")
	assert.Empty(t, g.msgs[2].Data)
	assert.True(t, g.msgs[2].Truncated)
}

func TestDecodeGRPCMessage(t *testing.T) {
	assert.Equal(t, "50% off ü", decodeGRPCMessage("50%25 off %C3%BC"))
	assert.Equal(t, "bad %zz", decodeGRPCMessage("bad %zz"))
	assert.Equal(t, "end %", decodeGRPCMessage("end %"))
}

func FuzzGRPCFrames(f *testing.F) {
	f.Add(grpcFrame(false, []byte("hello")), []byte{0})
	f.Add(append(grpcFrame(true, make([]byte, 70)), grpcFrame(false, nil)...), []byte{3, 1, 200})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, []byte{})
	f.Add([]byte{7, 0, 0}, []byte{1})
	f.Fuzz(func(t *testing.T, wire, splits []byte) {
		whole, parts := &grpcCapture{}, &grpcCapture{}
		xw, xp := testExchange(64), testExchange(64)
		whole.feed(xw, rprpb.Direction_DIRECTION_REQUEST, wire, 0)
		feedSplit(parts, xp, rprpb.Direction_DIRECTION_REQUEST, wire, splits)
		// However the bytes are split, the same messages come out.
		require.Equal(t, len(whole.msgs), len(parts.msgs))
		for i := range whole.msgs {
			require.True(t, proto.Equal(whole.msgs[i], parts.msgs[i]), "message %d", i)
			require.LessOrEqual(t, len(whole.msgs[i].Data), 64)
		}
		require.Equal(t, whole.req, parts.req)
	})
}

// wsFrame encodes one frame, masked with key when key is not nil.
func wsFrame(opcode byte, payload []byte, key []byte) []byte {
	b := []byte{0x80 | opcode}
	mask := byte(0)
	if key != nil {
		mask = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n < 1<<16:
		b = append(b, mask|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if key == nil {
		return append(b, payload...)
	}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

func wsFeedSplit(c *wsConn, f *wsFramer, b, splits []byte) {
	for i := 0; len(b) > 0; i++ {
		n := len(b)
		if len(splits) > 0 {
			n = min(n, int(splits[i%len(splits)])+1)
		}
		f.feed(c, b[:n], 0)
		b = b[n:]
	}
}

func newTestWS(bodyCap int64) *wsConn {
	c := &wsConn{x: testExchange(bodyCap)}
	c.c2s.dir = rprpb.Direction_DIRECTION_REQUEST
	c.s2c.dir = rprpb.Direction_DIRECTION_RESPONSE
	return c
}

func TestWSFramerUnmasksAcrossSplits(t *testing.T) {
	key := []byte{0x11, 0x22, 0x33, 0x44}
	payloads := [][]byte{[]byte("hello"), {}, []byte(string(make([]byte, 200))), make([]byte, 70000)}
	for i := range payloads[3] {
		payloads[3][i] = byte(i)
	}
	var wire []byte
	for i, p := range payloads {
		wire = append(wire, wsFrame(byte(1+i%2), p, key)...)
	}
	for _, split := range []byte{0, 1, 2, 6, 13, 255} {
		c := newTestWS(100000)
		wsFeedSplit(c, &c.c2s, wire, []byte{split})
		require.Len(t, c.msgs, len(payloads), "split %d", split)
		for i, m := range c.msgs {
			assert.Equal(t, string(payloads[i]), string(m.Data), "frame %d split %d", i, split)
			assert.EqualValues(t, 1+i%2, m.Opcode)
			assert.Equal(t, rprpb.Direction_DIRECTION_REQUEST, m.Direction)
		}
		assert.False(t, c.c2s.broken)
	}
}

func FuzzWebSocketFrames(f *testing.F) {
	f.Add(wsFrame(1, []byte("hi"), []byte{1, 2, 3, 4}), []byte{0})
	f.Add(append(wsFrame(2, make([]byte, 300), nil), wsFrame(8, []byte{3, 232}, nil)...), []byte{5, 1})
	f.Add([]byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{2})
	f.Add([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, 9}, []byte{})
	f.Fuzz(func(t *testing.T, wire, splits []byte) {
		whole, parts := newTestWS(64), newTestWS(64)
		whole.c2s.feed(whole, wire, 0)
		wsFeedSplit(parts, &parts.c2s, wire, splits)
		require.Equal(t, len(whole.msgs), len(parts.msgs))
		for i := range whole.msgs {
			require.True(t, proto.Equal(whole.msgs[i], parts.msgs[i]), "frame %d", i)
			require.LessOrEqual(t, len(whole.msgs[i].Data), 64)
		}
		require.Equal(t, whole.c2s.broken, parts.c2s.broken)
	})
}

func TestMaxMessagesListsOnlyThatMany(t *testing.T) {
	x := testExchange(100)
	x.p.maxMessages = 2
	g := &grpcCapture{}
	for range 3 {
		g.feed(x, rprpb.Direction_DIRECTION_REQUEST, grpcFrame(false, []byte("abc")), 0)
	}
	assert.Len(t, g.msgs, 2)
	assert.True(t, g.overflow)
	assert.Equal(t, 3, g.req.count, "every message is still counted")

	c := newTestWS(100)
	c.x.p.maxMessages = 2
	for range 3 {
		c.c2s.feed(c, wsFrame(1, []byte("abc"), []byte{1, 2, 3, 4}), 0)
	}
	assert.Len(t, c.msgs, 2)
	assert.False(t, c.c2s.broken, "frames past the limit are skipped cleanly")
}
