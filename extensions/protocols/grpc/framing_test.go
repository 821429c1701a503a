package grpc_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	grpccodec "github.com/reprise-dev/reprise/extensions/protocols/grpc"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

const (
	req  = rprpb.Direction_DIRECTION_REQUEST
	resp = rprpb.Direction_DIRECTION_RESPONSE
)

func frame(compressed bool, msg []byte) []byte {
	b := []byte{0, 0, 0, 0, 0}
	if compressed {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	return append(b, msg...)
}

// feedSplit feeds b in pieces whose sizes come from splits (cycled).
func feedSplit(s protocol.Splitter, b []byte, splits []byte) {
	for i := 0; len(b) > 0; i++ {
		n := len(b)
		if len(splits) > 0 {
			n = min(n, int(splits[i%len(splits)])+1)
		}
		s.Write(b[:n], 0)
		b = b[n:]
	}
}

// live returns the two splitters of one call sharing a capture, as the
// recording proxy uses them.
func live(l protocol.Limits) (c *protocol.Capture, in, out protocol.Splitter) {
	c = protocol.NewCapture(l)
	codec := grpccodec.Codec{}
	return c, codec.SplitBody(c, req), codec.SplitBody(c, resp)
}

func TestSplitsAnywhereWithAMessageCap(t *testing.T) {
	var wire []byte
	msgs := [][]byte{[]byte("hello"), {}, make([]byte, 300), []byte("x")}
	for i, m := range msgs {
		wire = append(wire, frame(i == 2, m)...)
	}
	for split := 1; split <= len(wire); split++ {
		s := grpccodec.Codec{}.NewSplitter(req, protocol.Limits{MessageCap: 100})
		feedSplit(s, wire, []byte{byte(split - 1)})
		require.NoError(t, s.Close())
		got := s.Messages()
		require.Len(t, got, len(msgs), "split %d", split)
		for i, m := range got {
			assert.EqualValues(t, len(msgs[i]), m.Size)
			assert.Equal(t, i == 2, m.Compressed)
			want := msgs[i]
			if len(want) > 100 {
				want = want[:100]
			}
			assert.Equal(t, len(msgs[i]) > 100, m.Truncated)
			assert.Equal(t, string(want), string(m.Data))
		}
		st := s.Stats()
		assert.Equal(t, len(msgs), st.Messages)
		assert.True(t, st.Lossy, "a truncated message makes the direction lossy")
		assert.False(t, st.Broken)
	}
}

func TestStopsOnGarbage(t *testing.T) {
	s := grpccodec.Codec{}.NewSplitter(resp, protocol.Limits{})
	s.Write(frame(false, []byte("ok")), 1)
	s.Write([]byte("HTTP/1.1 200 OK\r\n"), 2)
	s.Write(frame(false, []byte("after")), 3)
	st := s.Stats()
	assert.True(t, st.Broken)
	assert.True(t, st.Lossy)
	require.Len(t, s.Messages(), 1, "what came before the garbage is kept, nothing after")
	assert.ErrorContains(t, s.Close(), "not gRPC framing")
}

func TestDirectionsShareOneListAndBudget(t *testing.T) {
	c, in, out := live(protocol.Limits{MessageCap: 100, TotalCap: 150})
	in.Write(frame(false, make([]byte, 80)), 1)
	out.Write(frame(false, make([]byte, 80)), 2)
	in.Write(frame(false, make([]byte, 80)), 3)
	got := c.Messages()
	require.Len(t, got, 3)
	assert.Equal(t, []rprpb.Direction{req, resp, req}, []rprpb.Direction{got[0].Direction, got[1].Direction, got[2].Direction},
		"wire order across directions")
	assert.Equal(t, []int64{1, 2, 3}, []int64{got[0].AtNs, got[1].AtNs, got[2].AtNs})
	assert.Len(t, got[0].Data, 80)
	assert.Len(t, got[1].Data, 70, "the exchange budget runs out mid-message")
	assert.True(t, got[1].Truncated)
	assert.Empty(t, got[2].Data)
	assert.True(t, got[2].Truncated)
	assert.EqualValues(t, 80, got[2].Size, "the full size is kept")
	assert.True(t, in.Stats().Lossy)
	assert.True(t, out.Stats().Lossy)
	assert.Equal(t, 2, in.Stats().Messages)
	assert.Equal(t, 1, out.Stats().Messages)
}

func TestMaxMessagesListsOnlyThatMany(t *testing.T) {
	c, in, out := live(protocol.Limits{MaxMessages: 2})
	for range 2 {
		in.Write(frame(false, []byte("abc")), 0)
	}
	out.Write(frame(false, []byte("abc")), 0)
	out.Write(frame(false, []byte("def")), 0)
	assert.Len(t, c.Messages(), 2)
	assert.True(t, c.Overflow())
	assert.Equal(t, 2, out.Stats().Messages, "every message is still counted")
	assert.True(t, out.Stats().Lossy)
	assert.False(t, in.Stats().Lossy)
	require.NoError(t, out.Close(), "unlisted messages are skipped cleanly")
}

func TestSizesOnly(t *testing.T) {
	s := grpccodec.Codec{}.NewSplitter(req, protocol.Limits{SizesOnly: true})
	s.Write(frame(false, []byte("secret")), 0)
	require.Len(t, s.Messages(), 1)
	assert.Empty(t, s.Messages()[0].Data)
	assert.True(t, s.Messages()[0].Truncated)
	assert.EqualValues(t, 6, s.Messages()[0].Size)
}

func TestHugeDeclaredSizeAllocatesAsBytesArrive(t *testing.T) {
	s := grpccodec.Codec{}.NewSplitter(req, protocol.Limits{})
	allocs := testing.AllocsPerRun(10, func() {
		s := grpccodec.Codec{}.NewSplitter(req, protocol.Limits{})
		s.Write([]byte{0, 0xff, 0xff, 0xff, 0xff, 1}, 0)
	})
	assert.Less(t, allocs, 10.0)
	s.Write([]byte{0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, 0)
	m := s.Messages()[0]
	assert.EqualValues(t, 1<<32-1, m.Size)
	assert.Equal(t, []byte{1, 2, 3}, m.Data)
	assert.LessOrEqual(t, cap(m.Data), 64<<10, "a size read off the wire is not trusted for allocation")
	assert.ErrorContains(t, s.Close(), "body ended inside a message: 3 of 4294967295 bytes")
}

func FuzzFramesSplitAnywhere(f *testing.F) {
	f.Add(frame(false, []byte("hello")), []byte{0}, []byte{1})
	f.Add(append(frame(true, make([]byte, 70)), frame(false, nil)...), []byte{3, 1, 200}, []byte{})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3}, []byte{}, frame(false, []byte("x")))
	f.Add([]byte{7, 0, 0}, []byte{1}, []byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, wire, splits, other []byte) {
		l := protocol.Limits{MessageCap: 64, TotalCap: 200, MaxMessages: 20}
		cw, wholeIn, wholeOut := live(l)
		cp, partsIn, partsOut := live(l)
		wholeIn.Write(wire, 0)
		wholeOut.Write(other, 0)
		feedSplit(partsIn, wire, splits)
		partsOut.Write(other, 0)
		// However the bytes are split, the same messages come out.
		require.Equal(t, len(cw.Messages()), len(cp.Messages()))
		kept := 0
		for i, m := range cw.Messages() {
			require.True(t, proto.Equal(m, cp.Messages()[i]), "message %d", i)
			require.LessOrEqual(t, len(m.Data), 64)
			if m.Truncated {
				require.Less(t, int64(len(m.Data)), m.Size)
			}
			kept += len(m.Data)
		}
		require.LessOrEqual(t, kept, 200, "the shared budget holds")
		require.LessOrEqual(t, len(cw.Messages()), 20)
		require.Equal(t, wholeIn.Stats(), partsIn.Stats())
		require.Equal(t, wholeIn.Close() == nil, partsIn.Close() == nil)
	})
}
