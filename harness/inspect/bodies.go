package inspect

import (
	"cmp"
	"slices"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// bodySize is the body's full size as it crossed the proxy. gRPC and
// WebSocket exchanges carry their payload as messages instead of a body.
func bodySize(b *rprpb.Body, ex *rprpb.Exchange, dir rprpb.Direction) int64 {
	if n := max(b.GetSize(), int64(len(b.GetData()))); n > 0 {
		return n
	}
	msgs := ex.GetGrpc().GetMessages()
	ws := ex.GetWebsocket()
	if ws != nil {
		msgs = ws.GetMessages()
	}
	var n int64
	for _, m := range msgs {
		if m.GetDirection() == dir {
			n = satAdd(n, max(m.GetSize(), int64(len(m.GetData()))))
		}
	}
	if n == 0 && ws != nil {
		// Opaque WebSockets keep only byte counters.
		if dir == rprpb.Direction_DIRECTION_REQUEST {
			return max(ws.GetBytesClientToServer(), 0)
		}
		return max(ws.GetBytesServerToClient(), 0)
	}
	return n
}

func bodyOf(id uint64, method, tmpl string, size int64, b *rprpb.Body) Body {
	return Body{
		Exchange: id, Method: method, Route: tmpl, Size: size,
		Captured: int64(len(b.GetData())), Truncated: b.GetTruncated(),
	}
}

// topBodies keeps the n largest bodies seen, largest first.
type topBodies struct {
	n    int
	list []Body
}

func compareBodies(a, b Body) int {
	return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.Exchange, b.Exchange))
}

func (t *topBodies) offer(b Body) {
	if b.Size <= 0 {
		return
	}
	if len(t.list) == t.n && compareBodies(b, t.list[len(t.list)-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(t.list, b, compareBodies)
	if len(t.list) == t.n {
		t.list = t.list[:len(t.list)-1]
	}
	t.list = slices.Insert(t.list, i, b)
}

func (t *topBodies) sorted() []Body {
	if t.list == nil {
		return []Body{}
	}
	return t.list
}
