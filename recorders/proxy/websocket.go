package proxy

import (
	"io"
	"net/http"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// wsConn wraps the upstream side of an upgraded connection. ReverseProxy
// copies client bytes into Write and upstream bytes out of Read, so both
// directions cross it and are fed to the codec's splitters on the way.
type wsConn struct {
	x   *exchange
	rwc io.ReadWriteCloser

	// Guarded by x.mu.
	msgs   *protocol.Capture
	split  [3]protocol.Splitter // by rprpb.Direction
	bytes  [3]int64             // by rprpb.Direction
	opaque bool
}

// newWSConn starts a capture of an upgraded connection. The bytes are split
// into messages when the request's codec reads its protocol after an upgrade
// (WebSocket) and the handshake allows it; otherwise (an extension such as
// permessage-deflate whose payloads cannot be read frame by frame, or an
// upgrade to anything else) they are only counted.
func newWSConn(x *exchange, rwc io.ReadWriteCloser, respHeader http.Header) *wsConn {
	c := &wsConn{x: x, rwc: rwc, opaque: true}
	if us, ok := x.codec.(protocol.UpgradeSplitter); ok {
		msgs := protocol.NewCapture(x.p.limits)
		c2s := us.SplitUpgrade(msgs, rprpb.Direction_DIRECTION_REQUEST, respHeader)
		s2c := us.SplitUpgrade(msgs, rprpb.Direction_DIRECTION_RESPONSE, respHeader)
		if c2s != nil && s2c != nil {
			c.msgs, c.opaque = msgs, false
			c.split[rprpb.Direction_DIRECTION_REQUEST] = c2s
			c.split[rprpb.Direction_DIRECTION_RESPONSE] = s2c
		}
	}
	x.mu.Lock()
	x.ws = c
	x.mu.Unlock()
	return c
}

// Read carries upstream-to-client bytes.
func (c *wsConn) Read(p []byte) (int, error) {
	n, err := c.rwc.Read(p)
	if n > 0 {
		c.observe(rprpb.Direction_DIRECTION_RESPONSE, p[:n])
	}
	return n, err
}

// Write carries client-to-upstream bytes. They are parsed before they are
// forwarded, as upstream bytes are before they reach the client, so a reply
// is never listed ahead of the frame that caused it.
func (c *wsConn) Write(p []byte) (int, error) {
	if len(p) > 0 {
		c.observe(rprpb.Direction_DIRECTION_REQUEST, p)
	}
	return c.rwc.Write(p)
}

func (c *wsConn) Close() error {
	c.x.p.upgrades.Delete(c)
	return c.rwc.Close()
}

func (c *wsConn) observe(dir rprpb.Direction, b []byte) {
	x := c.x
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		return
	}
	c.bytes[dir] += int64(len(b))
	if c.opaque {
		return
	}
	s := c.split[dir]
	s.Write(b, int64(x.p.since()))
	if s.Stats().Broken {
		// Unparseable framing: keep the frames so far, count the rest.
		c.opaque = true
	}
}

// result is the connection's summary. Call after sealing.
func (c *wsConn) result() *rprpb.WebSocket {
	ws := &rprpb.WebSocket{
		Opaque:              c.opaque,
		BytesClientToServer: c.bytes[rprpb.Direction_DIRECTION_REQUEST],
		BytesServerToClient: c.bytes[rprpb.Direction_DIRECTION_RESPONSE],
	}
	if c.msgs != nil {
		ws.Messages = c.msgs.Messages()
	}
	return ws
}
