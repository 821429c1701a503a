package grpc_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/extensions"
	grpccodec "github.com/reprise-dev/reprise/extensions/protocols/grpc"
	_ "github.com/reprise-dev/reprise/extensions/protocols/http"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func msgs() []*rprpb.Message {
	return []*rprpb.Message{
		{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: []byte("hello"), Size: 5},
		{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: nil, Size: 0},
		{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: bytes.Repeat([]byte{7}, 300), Size: 300, Compressed: true},
	}
}

func TestSplitJoinAnyChunking(t *testing.T) {
	c := grpccodec.Codec{}
	body := c.Join(msgs())
	for chunk := 1; chunk <= len(body); chunk++ {
		s := c.NewSplitter(rprpb.Direction_DIRECTION_REQUEST, protocol.Limits{})
		var at int64
		for p := body; len(p) > 0; {
			n := min(chunk, len(p))
			at++
			s.Write(p[:n], at)
			p = p[n:]
		}
		require.NoError(t, s.Close())
		got := s.Messages()
		require.Len(t, got, 3, "chunk %d", chunk)
		for i, m := range got {
			assert.Equal(t, msgs()[i].Data, nonNil(m.Data), "chunk %d msg %d", chunk, i)
			assert.Equal(t, msgs()[i].Compressed, m.Compressed)
			assert.Equal(t, msgs()[i].Size, m.Size)
		}
		assert.Equal(t, body, c.Join(got), "join inverts split")
		if chunk == 1 {
			assert.Less(t, got[0].AtNs, got[2].AtNs, "a message is stamped when its first byte arrives")
		}
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return b
}

func TestCapsTruncate(t *testing.T) {
	c := grpccodec.Codec{}
	s := c.NewSplitter(rprpb.Direction_DIRECTION_RESPONSE, protocol.Limits{MessageCap: 10, TotalCap: 12})
	s.Write(c.Join(msgs()), 1)
	require.NoError(t, s.Close())
	got := s.Messages()
	require.Len(t, got, 3)
	assert.False(t, got[0].Truncated)
	assert.Len(t, got[2].Data, 7, "total cap leaves 12-5 bytes")
	assert.True(t, got[2].Truncated)
	assert.EqualValues(t, 300, got[2].Size, "the full size is kept")
}

func TestCloseMidMessage(t *testing.T) {
	c := grpccodec.Codec{}
	body := c.Join(msgs())
	s := c.NewSplitter(rprpb.Direction_DIRECTION_REQUEST, protocol.Limits{})
	s.Write(body[:len(body)-1], 1)
	assert.ErrorContains(t, s.Close(), "body ended inside a message: 299 of 300 bytes")
	s = c.NewSplitter(rprpb.Direction_DIRECTION_REQUEST, protocol.Limits{})
	s.Write(body[:2], 1)
	assert.ErrorContains(t, s.Close(), "inside a message prefix")
}

func TestResolvePrefersGRPC(t *testing.T) {
	h := http.Header{"Content-Type": {"application/grpc+proto"}}
	c := protocol.Resolve(protocol.RequestInfo{ProtoMajor: 2, Header: h})
	require.NotNil(t, c)
	assert.Equal(t, extensions.ID("protocols.grpc"), c.ExtensionInfo().ID)
	assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, c.Protocol(protocol.RequestInfo{}))

	c = protocol.Resolve(protocol.RequestInfo{ProtoMajor: 1, Header: h})
	assert.Equal(t, extensions.ID("protocols.http"), c.ExtensionInfo().ID, "gRPC needs HTTP/2")
	assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, c.Protocol(protocol.RequestInfo{ProtoMajor: 1}))
	assert.Equal(t, rprpb.Protocol_PROTOCOL_H2, c.Protocol(protocol.RequestInfo{ProtoMajor: 2, TLS: true}))
}

func FuzzSplitter(f *testing.F) {
	f.Add(grpccodec.Codec{}.Join(msgs()), uint8(3))
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 1}, uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, chunk uint8) {
		c := grpccodec.Codec{}
		s := c.NewSplitter(rprpb.Direction_DIRECTION_REQUEST, protocol.Limits{MessageCap: 1 << 10, TotalCap: 1 << 12})
		step := int(chunk%16) + 1
		for p := body; len(p) > 0; {
			n := min(step, len(p))
			s.Write(p[:n], 0)
			p = p[n:]
		}
		if s.Close() == nil {
			// A clean body re-joins to itself when nothing was truncated.
			for _, m := range s.Messages() {
				if m.Truncated {
					return
				}
			}
			if !bytes.Equal(body, c.Join(s.Messages())) {
				t.Fatalf("join(split(x)) != x")
			}
			_ = proto.Size(&rprpb.Grpc{Messages: s.Messages()})
		}
	})
}
