package websocket_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/extensions"
	_ "github.com/reprise-dev/reprise/extensions/protocols/grpc"
	_ "github.com/reprise-dev/reprise/extensions/protocols/http"
	wscodec "github.com/reprise-dev/reprise/extensions/protocols/websocket"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

const (
	c2s = rprpb.Direction_DIRECTION_REQUEST
	s2c = rprpb.Direction_DIRECTION_RESPONSE
)

// frame encodes one frame, masked with key when key is not nil.
func frame(opcode byte, payload []byte, key []byte) []byte {
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

func feedSplit(s protocol.Splitter, b, splits []byte) {
	for i := 0; len(b) > 0; i++ {
		n := len(b)
		if len(splits) > 0 {
			n = min(n, int(splits[i%len(splits)])+1)
		}
		s.Write(b[:n], 0)
		b = b[n:]
	}
}

func live(l protocol.Limits) (c *protocol.Capture, in, out protocol.Splitter) {
	c = protocol.NewCapture(l)
	codec := wscodec.Codec{}
	return c, codec.SplitUpgrade(c, c2s, http.Header{}), codec.SplitUpgrade(c, s2c, http.Header{})
}

func TestUnmasksAcrossSplits(t *testing.T) {
	key := []byte{0x11, 0x22, 0x33, 0x44}
	payloads := [][]byte{[]byte("hello"), {}, make([]byte, 200), make([]byte, 70000)}
	for i := range payloads[3] {
		payloads[3][i] = byte(i)
	}
	var wire []byte
	for i, p := range payloads {
		wire = append(wire, frame(byte(1+i%2), p, key)...)
	}
	for _, split := range []byte{0, 1, 2, 6, 13, 255} {
		c, in, _ := live(protocol.Limits{MessageCap: 100000})
		feedSplit(in, wire, []byte{split})
		require.NoError(t, in.Close())
		require.Len(t, c.Messages(), len(payloads), "split %d", split)
		for i, m := range c.Messages() {
			assert.Equal(t, string(payloads[i]), string(m.Data), "frame %d split %d", i, split)
			assert.EqualValues(t, 1+i%2, m.Opcode)
			assert.Equal(t, c2s, m.Direction)
			assert.False(t, m.Truncated)
		}
		assert.False(t, in.Stats().Broken)
		assert.Equal(t, len(payloads), in.Stats().Messages)
	}
}

func TestDirectionsInterleaveInWireOrder(t *testing.T) {
	c, in, out := live(protocol.Limits{MessageCap: 3, TotalCap: 5})
	in.Write(frame(1, []byte("ping"), []byte{9, 8, 7, 6}), 1)
	out.Write(frame(1, []byte("pong"), nil), 2)
	in.Write(frame(8, []byte{3, 232}, []byte{1, 2, 3, 4}), 3)
	got := c.Messages()
	require.Len(t, got, 3)
	assert.Equal(t, "pin", string(got[0].Data), "the per-message cap")
	assert.Equal(t, "po", string(got[1].Data), "the shared budget")
	assert.Empty(t, got[2].Data)
	assert.True(t, got[0].Truncated && got[1].Truncated && got[2].Truncated)
	assert.Equal(t, []int64{1, 2, 3}, []int64{got[0].AtNs, got[1].AtNs, got[2].AtNs})
	assert.Equal(t, []rprpb.Direction{c2s, s2c, c2s}, []rprpb.Direction{got[0].Direction, got[1].Direction, got[2].Direction})
	assert.EqualValues(t, 8, got[2].Opcode)
}

func TestMaxMessagesSkipsCleanly(t *testing.T) {
	c, in, _ := live(protocol.Limits{MaxMessages: 2})
	for range 3 {
		in.Write(frame(1, []byte("abc"), []byte{1, 2, 3, 4}), 0)
	}
	assert.Len(t, c.Messages(), 2)
	assert.True(t, c.Overflow())
	assert.Equal(t, 3, in.Stats().Messages)
	assert.False(t, in.Stats().Broken, "frames past the limit are skipped cleanly")
	assert.NoError(t, in.Close())
}

func TestBadLengthBreaksTheStream(t *testing.T) {
	c, in, _ := live(protocol.Limits{})
	in.Write(frame(2, []byte("ok"), nil), 0)
	in.Write([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 0)
	in.Write(frame(2, []byte("lost"), nil), 0)
	assert.True(t, in.Stats().Broken)
	assert.Len(t, c.Messages(), 1)
	assert.ErrorContains(t, in.Close(), "not WebSocket framing")
}

func TestCompressionExtensionIsNotSplit(t *testing.T) {
	c := protocol.NewCapture(protocol.Limits{})
	h := http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}
	assert.Nil(t, wscodec.Codec{}.SplitUpgrade(c, c2s, h))
	assert.Nil(t, wscodec.Codec{}.NewSplitter(c2s, protocol.Limits{}), "bodies before an upgrade stay whole")
}

func TestJoinThenSplit(t *testing.T) {
	msgs := []*rprpb.Message{
		{Direction: c2s, Opcode: 1, Data: []byte("hi"), Size: 2},
		{Direction: c2s, Opcode: 2, Data: bytes.Repeat([]byte{7}, 300), Size: 300},
		{Direction: c2s, Opcode: 2, Data: bytes.Repeat([]byte{9}, 70000), Size: 70000, Compressed: true},
	}
	body := wscodec.Codec{}.Join(msgs)
	c, in, _ := live(protocol.Limits{})
	in.Write(body, 0)
	require.NoError(t, in.Close())
	require.Len(t, c.Messages(), len(msgs))
	for i, m := range c.Messages() {
		assert.True(t, proto.Equal(msgs[i], m), "frame %d", i)
	}
}

func TestResolveClaimsUpgrades(t *testing.T) {
	up := http.Header{"Upgrade": {"WebSocket"}, "Connection": {"Upgrade"}}
	c := protocol.Resolve(protocol.RequestInfo{ProtoMajor: 1, Header: up})
	require.NotNil(t, c)
	assert.Equal(t, extensions.ID("protocols.websocket"), c.ExtensionInfo().ID)
	assert.Equal(t, rprpb.Protocol_PROTOCOL_WEBSOCKET, c.Protocol(protocol.RequestInfo{}))
	c = protocol.Resolve(protocol.RequestInfo{ProtoMajor: 2, Header: up})
	assert.Equal(t, extensions.ID("protocols.http"), c.ExtensionInfo().ID, "no WebSocket over HTTP/2")
	c = protocol.Resolve(protocol.RequestInfo{ProtoMajor: 1, Header: http.Header{"Upgrade": {"h2c"}}})
	assert.Equal(t, extensions.ID("protocols.http"), c.ExtensionInfo().ID)
}

func FuzzFramesSplitAnywhere(f *testing.F) {
	f.Add(frame(1, []byte("hi"), []byte{1, 2, 3, 4}), []byte{0})
	f.Add(append(frame(2, make([]byte, 300), nil), frame(8, []byte{3, 232}, nil)...), []byte{5, 1})
	f.Add([]byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{2})
	f.Add([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, 9}, []byte{})
	f.Fuzz(func(t *testing.T, wire, splits []byte) {
		l := protocol.Limits{MessageCap: 64, TotalCap: 200, MaxMessages: 20}
		cw, whole, _ := live(l)
		cp, parts, _ := live(l)
		whole.Write(wire, 0)
		feedSplit(parts, wire, splits)
		require.Equal(t, len(cw.Messages()), len(cp.Messages()))
		kept := 0
		for i, m := range cw.Messages() {
			require.True(t, proto.Equal(m, cp.Messages()[i]), "frame %d", i)
			require.LessOrEqual(t, len(m.Data), 64)
			kept += len(m.Data)
		}
		require.LessOrEqual(t, kept, 200)
		require.Equal(t, whole.Stats(), parts.Stats())
		require.Equal(t, whole.Close() == nil, parts.Close() == nil)
	})
}
