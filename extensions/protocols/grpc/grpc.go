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

// NewSplitter returns a length-prefixed message splitter for a body on its
// own.
func (c Codec) NewSplitter(dir rprpb.Direction, l protocol.Limits) protocol.Splitter {
	return c.SplitBody(protocol.NewCapture(l), dir)
}

// SplitBody returns the splitter of one direction of a live call; both
// directions list their messages in c, in wire order.
func (Codec) SplitBody(c *protocol.Capture, dir rprpb.Direction) protocol.Splitter {
	return &Splitter{dir: dir, c: c}
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

// Splitter cuts a gRPC body into messages as bytes arrive: a 1-byte
// compressed flag, a 4-byte big-endian length, then the message, split
// anywhere. A message is listed, stamped with the time of the write that
// completed its prefix, as soon as its prefix is in. A flag other than 0 or
// 1 means the stream is not gRPC framing: the splitter stops there rather
// than guess.
type Splitter struct {
	dir rprpb.Direction
	c   *protocol.Capture

	hdr    [5]byte
	hdrN   int
	cur    *rprpb.Message // the message filling; nil when not listed
	keep   int64          // bytes of cur that may be kept
	size   int64          // the current message's size
	remain int64          // bytes of the current message still to come
	inMsg  bool           // between a complete prefix and the message's end
	stats  protocol.SplitStats
}

// Write consumes p, seen at atNs.
func (s *Splitter) Write(p []byte, atNs int64) {
	for len(p) > 0 && !s.stats.Broken {
		if !s.inMsg {
			k := copy(s.hdr[s.hdrN:], p)
			s.hdrN += k
			p = p[k:]
			if s.hdrN < len(s.hdr) {
				return
			}
			s.hdrN = 0
			s.begin(atNs)
			continue
		}
		take := min(int64(len(p)), s.remain)
		if s.cur != nil {
			protocol.Keep(s.cur, s.keep, p[:take])
		}
		s.remain -= take
		p = p[take:]
		if s.remain == 0 {
			s.cur, s.inMsg = nil, false
		}
	}
}

// begin decodes a complete prefix and lists its message.
func (s *Splitter) begin(atNs int64) {
	if s.hdr[0] > 1 {
		// Only 0 and 1 are defined.
		s.stats.Broken, s.stats.Lossy = true, true
		return
	}
	size := int64(binary.BigEndian.Uint32(s.hdr[1:]))
	s.stats.Messages++
	m := &rprpb.Message{Direction: s.dir, AtNs: atNs, Compressed: s.hdr[0] == 1, Size: size}
	s.keep = s.c.Begin(m)
	switch {
	case s.keep < 0:
		s.cur, s.stats.Lossy = nil, true
	case m.Truncated:
		s.cur, s.stats.Lossy = m, true
	default:
		s.cur = m
	}
	s.size, s.remain, s.inMsg = size, size, size > 0
	if !s.inMsg {
		s.cur = nil
	}
}

// Messages returns the messages listed so far (both directions' when the
// capture is shared).
func (s *Splitter) Messages() []*rprpb.Message { return s.c.Messages() }

// Stats says what this direction has seen.
func (s *Splitter) Stats() protocol.SplitStats { return s.stats }

// Close reports a body that ended inside a message or that was not gRPC
// framing.
func (s *Splitter) Close() error {
	switch {
	case s.stats.Broken:
		return fmt.Errorf("grpc: not gRPC framing: compressed flag %d", s.hdr[0])
	case s.inMsg:
		return fmt.Errorf("grpc: body ended inside a message: %d of %d bytes", s.size-s.remain, s.size)
	case s.hdrN > 0:
		return fmt.Errorf("grpc: body ended inside a message prefix: %d of 5 bytes", s.hdrN)
	}
	return nil
}

var (
	_ protocol.Codec        = Codec{}
	_ protocol.BodySplitter = Codec{}
	_ protocol.Splitter     = (*Splitter)(nil)
)
