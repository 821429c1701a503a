// Package grpc is the protocols.grpc codec: it recognises gRPC calls by
// content type and splits their bodies into length-prefixed messages, keeping
// each message's arrival time, so that streams of every call kind are
// recorded message by message and can be replayed with their timing.
package grpc

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func init() { extensions.Register(Codec{}) }

// Codec is the gRPC codec.
type Codec struct{}

// ExtensionInfo registers the codec.
func (Codec) ExtensionInfo() extensions.Info {
	return extensions.Info{
		ID:      "protocols.grpc",
		New:     func() extensions.Extension { return Codec{} },
		Summary: "gRPC over HTTP/2, all four call kinds; messages split with per-message timing",
	}
}

// Protocol is always gRPC.
func (Codec) Protocol(protocol.RequestInfo) rprpb.Protocol { return rprpb.Protocol_PROTOCOL_GRPC }

// Match claims HTTP/2 requests whose content type is application/grpc or a
// subtype (application/grpc+proto), as the gRPC spec defines it.
func (Codec) Match(req protocol.RequestInfo) bool {
	if req.ProtoMajor != 2 {
		return false
	}
	ct := req.Header.Get("Content-Type")
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}

// Priority puts gRPC before plain HTTP.
func (Codec) Priority() int { return 100 }

// NewSplitter returns a length-prefixed message splitter.
func (Codec) NewSplitter(dir rprpb.Direction, l protocol.Limits) protocol.Splitter {
	return &Splitter{dir: dir, limits: l}
}

// Join frames the messages with the 5-byte gRPC prefix.
func (Codec) Join(msgs []*rprpb.Message) []byte {
	n := 0
	for _, m := range msgs {
		n += 5 + len(m.GetData())
	}
	out := make([]byte, 0, n)
	for _, m := range msgs {
		flag := byte(0)
		if m.GetCompressed() {
			flag = 1
		}
		out = append(out, flag)
		out = binary.BigEndian.AppendUint32(out, uint32(len(m.GetData())))
		out = append(out, m.GetData()...)
	}
	return out
}

// Splitter cuts a gRPC body into messages as bytes arrive. Each message is
// stamped with the time its first byte arrived.
type Splitter struct {
	dir    rprpb.Direction
	limits protocol.Limits
	msgs   []*rprpb.Message
	kept   int // message bytes kept over the whole body

	hdr     [5]byte
	hdrN    int
	cur     *rprpb.Message
	remain  uint32 // bytes of the current message still to come
	partial bool
}

// Write consumes p, seen at atNs.
func (s *Splitter) Write(p []byte, atNs int64) {
	for len(p) > 0 {
		if s.cur == nil {
			k := copy(s.hdr[s.hdrN:], p)
			if s.hdrN == 0 {
				s.partial = true
			}
			s.hdrN += k
			p = p[k:]
			if s.hdrN < 5 {
				continue
			}
			size := binary.BigEndian.Uint32(s.hdr[1:])
			s.cur = &rprpb.Message{Direction: s.dir, AtNs: atNs, Compressed: s.hdr[0]&1 == 1, Size: int64(size)}
			s.remain = size
			s.hdrN = 0
			if size == 0 {
				s.finish()
				continue
			}
		}
		take := min(uint32(len(p)), s.remain)
		room := s.room()
		if keep := min(int(take), room); keep > 0 {
			s.cur.Data = append(s.cur.Data, p[:keep]...)
			s.kept += keep
		}
		if int(take) > room {
			s.cur.Truncated = true
		}
		s.remain -= take
		p = p[take:]
		if s.remain == 0 {
			s.finish()
		}
	}
}

func (s *Splitter) room() int {
	room := int(^uint(0) >> 1)
	if s.limits.MessageCap > 0 {
		room = s.limits.MessageCap - len(s.cur.Data)
	}
	if s.limits.TotalCap > 0 {
		room = min(room, s.limits.TotalCap-s.kept)
	}
	return max(room, 0)
}

func (s *Splitter) finish() {
	s.msgs = append(s.msgs, s.cur)
	s.cur = nil
	s.partial = false
}

// Messages returns the complete messages so far.
func (s *Splitter) Messages() []*rprpb.Message { return s.msgs }

// Close reports a body that ended inside a message.
func (s *Splitter) Close() error {
	if s.partial {
		if s.cur != nil {
			return fmt.Errorf("grpc: body ended inside a message: %d of %d bytes", s.cur.Size-int64(s.remain), s.cur.Size)
		}
		return fmt.Errorf("grpc: body ended inside a message prefix: %d of 5 bytes", s.hdrN)
	}
	return nil
}

var _ protocol.Codec = Codec{}
