package websocket

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func init() { extensions.Register(Codec{}) }

// Codec is the WebSocket codec.
type Codec struct{}

// ExtensionInfo registers the codec.
func (Codec) ExtensionInfo() extensions.Info {
	return extensions.Info{
		ID:      "protocols.websocket",
		New:     func() extensions.Extension { return Codec{} },
		Summary: "WebSocket over HTTP/1.1 upgrades; frames split with per-frame timing, client payloads unmasked",
	}
}

// Protocol is always WebSocket.
func (Codec) Protocol(protocol.RequestInfo) rprpb.Protocol { return rprpb.Protocol_PROTOCOL_WEBSOCKET }

// Match claims HTTP/1.1 requests asking to upgrade to websocket.
// (WebSocket over HTTP/2, RFC 8441, is an extended CONNECT: not claimed.)
func (Codec) Match(req protocol.RequestInfo) bool {
	return req.ProtoMajor == 1 && strings.EqualFold(req.Header.Get("Upgrade"), "websocket")
}

// Priority puts WebSocket before plain HTTP.
func (Codec) Priority() int { return 50 }

// NewSplitter returns nil: the bodies of an upgrade request and of a refusal
// are plain HTTP bodies, kept whole. Frames travel after the upgrade.
func (Codec) NewSplitter(rprpb.Direction, protocol.Limits) protocol.Splitter { return nil }

// SplitUpgrade returns the frame splitter of one direction of an upgraded
// connection, or nil when the handshake negotiated an extension
// (permessage-deflate) whose payloads cannot be read frame by frame.
func (Codec) SplitUpgrade(c *protocol.Capture, dir rprpb.Direction, respHeader http.Header) protocol.Splitter {
	if respHeader.Get("Sec-WebSocket-Extensions") != "" {
		return nil
	}
	return &Splitter{dir: dir, c: c}
}

// Join encodes the messages as unfragmented frames. Frames sent by the
// client (DIRECTION_REQUEST) are masked, as RFC 6455 requires, with the
// all-zero key, which leaves the payload bytes as they are.
func (Codec) Join(msgs []*rprpb.Message) []byte {
	n := 0
	for _, m := range msgs {
		n += 14 + len(m.GetData())
	}
	out := make([]byte, 0, n)
	for _, m := range msgs {
		b0 := byte(0x80) | byte(m.GetOpcode()&0x0f)
		if m.GetCompressed() {
			b0 |= 0x40
		}
		mask := byte(0)
		if m.GetDirection() == rprpb.Direction_DIRECTION_REQUEST {
			mask = 0x80
		}
		out = append(out, b0)
		switch l := len(m.GetData()); {
		case l < 126:
			out = append(out, mask|byte(l))
		case l < 1<<16:
			out = append(out, mask|126)
			out = binary.BigEndian.AppendUint16(out, uint16(l))
		default:
			out = append(out, mask|127)
			out = binary.BigEndian.AppendUint64(out, uint64(l))
		}
		if mask != 0 {
			out = append(out, 0, 0, 0, 0)
		}
		out = append(out, m.GetData()...)
	}
	return out
}

// Splitter is an incremental parser of RFC 6455 frames in one direction,
// unmasking payloads as they pass. A frame is listed, stamped with the time
// of the write that completed its header, as soon as its header is in.
type Splitter struct {
	dir rprpb.Direction
	c   *protocol.Capture

	hdr    [14]byte
	hn     int   // header bytes held
	hlen   int   // header length, known once the first two bytes are in
	size   int64 // the current frame's payload size
	remain int64 // payload bytes still to come
	// inPayload is set between a complete header and the frame's last byte.
	inPayload bool
	mask      [4]byte
	masked    bool
	mpos      int
	cur       *rprpb.Message // the frame filling; nil when not listed
	keep      int64          // bytes of cur that may be kept
	stats     protocol.SplitStats
}

// Write consumes p, seen at atNs.
func (s *Splitter) Write(p []byte, atNs int64) {
	for len(p) > 0 && !s.stats.Broken {
		if !s.inPayload {
			if !s.header(&p) {
				return
			}
			s.begin(atNs)
			continue
		}
		k := min(int64(len(p)), s.remain)
		if m := s.cur; m != nil {
			start := len(m.Data)
			protocol.Keep(m, s.keep, p[:k])
			if s.masked {
				for i := start; i < len(m.Data); i++ {
					m.Data[i] ^= s.mask[(s.mpos+i-start)&3]
				}
			}
		}
		s.mpos = (s.mpos + int(k&3)) & 3
		s.remain -= k
		p = p[k:]
		if s.remain == 0 {
			s.cur, s.inPayload = nil, false
		}
	}
}

// header accumulates header bytes from *p. It returns true once the whole
// header is in.
func (s *Splitter) header(p *[]byte) bool {
	if s.hlen == 0 {
		s.hlen = 2
	}
	for s.hn < s.hlen && len(*p) > 0 {
		k := copy(s.hdr[s.hn:s.hlen], *p)
		s.hn += k
		*p = (*p)[k:]
		if s.hn == 2 && s.hlen == 2 {
			s.hlen = 2 + extLen(s.hdr[1]&0x7f)
			if s.hdr[1]&0x80 != 0 {
				s.hlen += 4
			}
		}
	}
	return s.hn == s.hlen
}

func extLen(len7 byte) int {
	switch len7 {
	case 126:
		return 2
	case 127:
		return 8
	}
	return 0
}

// begin decodes a complete header and lists the frame.
func (s *Splitter) begin(atNs int64) {
	h := s.hdr[:s.hlen]
	var size uint64
	p := 2
	switch h[1] & 0x7f {
	case 126:
		size = uint64(binary.BigEndian.Uint16(h[2:]))
		p += 2
	case 127:
		size = binary.BigEndian.Uint64(h[2:])
		p += 8
	default:
		size = uint64(h[1] & 0x7f)
	}
	s.masked = h[1]&0x80 != 0
	if s.masked {
		copy(s.mask[:], h[p:p+4])
	}
	s.hn, s.hlen, s.mpos, s.cur = 0, 0, 0, nil
	if size>>63 != 0 {
		// RFC 6455: the most significant bit must be 0.
		s.stats.Broken, s.stats.Lossy = true, true
		return
	}
	s.stats.Messages++
	s.size, s.remain = int64(size), int64(size)
	m := &rprpb.Message{
		Direction: s.dir,
		AtNs:      atNs,
		Opcode:    uint32(h[0] & 0x0f),
		// RSV1 marks a compressed frame (RFC 7692).
		Compressed: h[0]&0x40 != 0,
		Size:       int64(size),
	}
	// Past MaxMessages, frames are only counted.
	if s.keep = s.c.Begin(m); s.keep >= 0 {
		s.cur = m
		if m.Truncated {
			s.stats.Lossy = true
		}
	} else {
		s.stats.Lossy = true
	}
	s.inPayload = size > 0
	if !s.inPayload {
		s.cur = nil
	}
}

// Messages returns the frames listed so far (both directions' when the
// capture is shared).
func (s *Splitter) Messages() []*rprpb.Message { return s.c.Messages() }

// Stats says what this direction has seen.
func (s *Splitter) Stats() protocol.SplitStats { return s.stats }

// Close reports a stream that ended inside a frame or broke the framing.
func (s *Splitter) Close() error {
	switch {
	case s.stats.Broken:
		return fmt.Errorf("websocket: not WebSocket framing: payload length with the most significant bit set")
	case s.inPayload:
		return fmt.Errorf("websocket: stream ended inside a frame: %d of %d bytes", s.size-s.remain, s.size)
	case s.hn > 0:
		return fmt.Errorf("websocket: stream ended inside a frame header: %d bytes", s.hn)
	}
	return nil
}

var (
	_ protocol.Codec           = Codec{}
	_ protocol.UpgradeSplitter = Codec{}
	_ protocol.Splitter        = (*Splitter)(nil)
)
