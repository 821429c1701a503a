package protocol

import "github.com/reprise-dev/reprise/harness/recording/rprpb"

// Capture is the message list and byte budget that the splitters of one
// exchange share. It is not safe for concurrent use: the caller serialises
// the directions' writes, which is also what puts their messages in wire
// order.
type Capture struct {
	msgs        []*rprpb.Message
	messageCap  int64 // < 0: no cap
	budget      int64 // < 0: no cap
	maxMessages int
	overflow    bool
}

// NewCapture returns an empty capture under l.
func NewCapture(l Limits) *Capture {
	c := &Capture{messageCap: -1, budget: -1, maxMessages: l.MaxMessages}
	if l.MessageCap > 0 {
		c.messageCap = int64(l.MessageCap)
	}
	if l.TotalCap > 0 {
		c.budget = int64(l.TotalCap)
	}
	if l.SizesOnly {
		c.messageCap, c.budget = 0, 0
	}
	return c
}

// Messages returns the messages listed so far, in the order they began.
func (c *Capture) Messages() []*rprpb.Message { return c.msgs }

// Overflow reports that MaxMessages was reached and later messages were not
// listed.
func (c *Capture) Overflow() bool { return c.overflow }

// Begin lists m, whose Size is set, and returns how many of its bytes may be
// kept: Size within MessageCap and what is left of TotalCap, which it
// reserves. It sets m.Truncated when that is less than Size. It returns -1,
// leaving m unlisted, once MaxMessages messages are listed.
func (c *Capture) Begin(m *rprpb.Message) int64 {
	if c.maxMessages > 0 && len(c.msgs) >= c.maxMessages {
		c.overflow = true
		return -1
	}
	keep := m.Size
	if c.messageCap >= 0 {
		keep = min(keep, c.messageCap)
	}
	if c.budget >= 0 {
		keep = min(keep, c.budget)
		c.budget -= keep
	}
	keep = max(keep, 0)
	m.Truncated = keep < m.Size
	c.msgs = append(c.msgs, m)
	return keep
}

// Keep appends to m's data the part of b that fits in keep bytes (what Begin
// returned), growing the buffer as bytes arrive rather than trusting a size
// read off the wire.
func Keep(m *rprpb.Message, keep int64, b []byte) {
	room := keep - int64(len(m.Data))
	if room <= 0 || len(b) == 0 {
		return
	}
	if int64(len(b)) > room {
		b = b[:room]
	}
	if m.Data == nil {
		m.Data = make([]byte, 0, min(keep, maxInitialData))
	}
	m.Data = append(m.Data, b...)
}

// maxInitialData bounds the buffer a message gets before its bytes arrive.
const maxInitialData = 64 << 10
