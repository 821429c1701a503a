package proxy

import (
	"encoding/binary"
	"io"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// wsConn wraps the upstream side of an upgraded connection. ReverseProxy
// copies client bytes into Write and upstream bytes out of Read, so both
// directions cross it and are parsed into frames on the way.
type wsConn struct {
	x   *exchange
	rwc io.ReadWriteCloser

	// Guarded by x.mu.
	c2s, s2c wsFramer
	msgs     []*rprpb.Message
	opaque   bool
}

// newWSConn starts a capture of an upgraded connection. When opaque (an
// extension such as permessage-deflate was negotiated, whose payloads are not
// readable frame by frame, or the upgrade is not WebSocket) bytes are only
// counted.
func newWSConn(x *exchange, rwc io.ReadWriteCloser, opaque bool) *wsConn {
	c := &wsConn{x: x, rwc: rwc, opaque: opaque}
	c.c2s.dir = rprpb.Direction_DIRECTION_REQUEST
	c.s2c.dir = rprpb.Direction_DIRECTION_RESPONSE
	x.mu.Lock()
	x.ws = c
	x.mu.Unlock()
	return c
}

// Read carries upstream-to-client bytes.
func (c *wsConn) Read(p []byte) (int, error) {
	n, err := c.rwc.Read(p)
	if n > 0 {
		c.observe(&c.s2c, p[:n])
	}
	return n, err
}

// Write carries client-to-upstream bytes. They are parsed before they are
// forwarded, as upstream bytes are before they reach the client, so a reply
// is never listed ahead of the frame that caused it.
func (c *wsConn) Write(p []byte) (int, error) {
	if len(p) > 0 {
		c.observe(&c.c2s, p)
	}
	return c.rwc.Write(p)
}

func (c *wsConn) Close() error {
	c.x.p.upgrades.Delete(c)
	return c.rwc.Close()
}

func (c *wsConn) observe(f *wsFramer, b []byte) {
	x := c.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		return
	}
	f.bytes += int64(len(b))
	if c.opaque {
		return
	}
	f.feed(c, b, x.p.since())
	if f.broken {
		// Unparseable framing: keep the frames so far, count the rest.
		c.opaque = true
	}
}

// result is the connection's summary. Call after sealing.
func (c *wsConn) result() *rprpb.WebSocket {
	return &rprpb.WebSocket{
		Messages:            c.msgs,
		Opaque:              c.opaque,
		BytesClientToServer: c.c2s.bytes,
		BytesServerToClient: c.s2c.bytes,
	}
}

// wsFramer is an incremental parser of RFC 6455 frames, unmasking client
// payloads as they pass.
type wsFramer struct {
	dir   rprpb.Direction
	bytes int64
	hdr   [14]byte
	hn    int   // header bytes held
	hlen  int   // header length, known once the first two bytes are in
	need  int64 // payload bytes still to come
	// inPayload is set between a complete header and the frame's last byte.
	inPayload bool
	mask      [4]byte
	masked    bool
	mpos      int
	cur       *rprpb.Message
	broken    bool
}

func (f *wsFramer) feed(c *wsConn, b []byte, now time.Duration) {
	for len(b) > 0 && !f.broken {
		if !f.inPayload {
			if !f.header(&b) {
				return
			}
			f.begin(c, now)
			continue
		}
		k := int64(len(b))
		if k > f.need {
			k = f.need
		}
		if m := f.cur; m != nil {
			room := int64(cap(m.Data) - len(m.Data))
			if take := min(k, room); take > 0 {
				start := len(m.Data)
				m.Data = append(m.Data, b[:take]...)
				if f.masked {
					for i := start; i < len(m.Data); i++ {
						m.Data[i] ^= f.mask[(f.mpos+i-start)&3]
					}
				}
			}
		}
		f.mpos = (f.mpos + int(k)) & 3
		f.need -= k
		b = b[k:]
		if f.need == 0 {
			f.cur, f.inPayload = nil, false
		}
	}
}

// header accumulates header bytes from *b. It returns true once the whole
// header is in.
func (f *wsFramer) header(b *[]byte) bool {
	if f.hlen == 0 {
		f.hlen = 2
	}
	for f.hn < f.hlen && len(*b) > 0 {
		k := copy(f.hdr[f.hn:f.hlen], *b)
		f.hn += k
		*b = (*b)[k:]
		if f.hn == 2 && f.hlen == 2 {
			f.hlen = 2 + extLen(f.hdr[1]&0x7f)
			if f.hdr[1]&0x80 != 0 {
				f.hlen += 4
			}
		}
	}
	return f.hn == f.hlen
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
func (f *wsFramer) begin(c *wsConn, now time.Duration) {
	h := f.hdr[:f.hlen]
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
	f.masked = h[1]&0x80 != 0
	if f.masked {
		copy(f.mask[:], h[p:p+4])
	}
	f.hn, f.hlen, f.mpos, f.cur = 0, 0, 0, nil
	if size>>63 != 0 {
		f.broken = true // RFC 6455: the most significant bit must be 0
		return
	}
	f.need = int64(size)
	x := c.x
	// Past MaxMessages, frames only add to the byte counts.
	if x.p.maxMessages == 0 || len(c.msgs) < x.p.maxMessages {
		m := &rprpb.Message{
			Direction: f.dir,
			AtNs:      int64(now),
			Opcode:    uint32(h[0] & 0x0f),
			// RSV1 marks a compressed frame (RFC 7692).
			Compressed: h[0]&0x40 != 0,
			Size:       int64(size),
		}
		if n := x.take(int64(size)); n > 0 {
			m.Data = make([]byte, 0, n)
		}
		m.Truncated = int64(cap(m.Data)) < m.Size
		c.msgs = append(c.msgs, m)
		if size > 0 {
			f.cur = m
		}
	}
	f.inPayload = size > 0
}
