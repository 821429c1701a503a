package replay

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// ErrUnsupported marks exchanges whose protocol no registered driver
// replays; they still produce a Result so nothing is skipped silently.
var ErrUnsupported = errors.New("protocol not supported yet")

// hopHeaders belong to one connection and are never replayed; Host and
// Content-Length are set from the target and the body.
var hopHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"te": true, "trailer": true, "upgrade": true, "host": true, "content-length": true,
	"proxy-authorization": true, "proxy-authenticate": true, "http2-settings": true,
}

// connKey identifies a recorded client connection and the protocol replayed
// on it (an upgrade to WebSocket gets a client of its own).
type connKey struct {
	session string
	conn    uint64
	proto   rprpb.Protocol
}

// conns hands out one protocol.Conn per recorded connection, so the target
// sees connections open and get reused the way the recording did; a Conn
// is closed when the last request of its recorded connection is done,
// which bounds open sockets by the recording's own concurrency.
type conns struct {
	target protocol.Target

	mu sync.Mutex
	m  map[connKey]*connState
}

type connState struct {
	c    protocol.Conn
	left int // requests of this connection not yet done
}

func newConns(t protocol.Target) *conns {
	return &conns{target: t, m: make(map[connKey]*connState)}
}

// expect registers one more request of a recorded connection.
func (p *conns) expect(k connKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.m[k]
	if c == nil {
		c = &connState{}
		p.m[k] = c
	}
	c.left++
}

// get returns the connection's client, dialling it on first use (Dial does
// no I/O).
func (p *conns) get(k connKey, d protocol.Driver) (protocol.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.m[k]
	if c == nil { // not expected: serve it anyway, closed at shutdown
		c = &connState{left: 1}
		p.m[k] = c
	}
	if c.c == nil {
		t := p.target
		t.Protocol = k.proto
		conn, err := d.Dial(t)
		if err != nil {
			return nil, err
		}
		c.c = conn
	}
	return c.c, nil
}

func (p *conns) release(k connKey) {
	p.mu.Lock()
	c := p.m[k]
	if c == nil {
		p.mu.Unlock()
		return
	}
	c.left--
	done := c.left <= 0
	if done {
		delete(p.m, k)
	}
	p.mu.Unlock()
	if done && c.c != nil {
		_ = c.c.Close()
	}
}

func (p *conns) close() {
	p.mu.Lock()
	all := p.m
	p.m = make(map[connKey]*connState)
	p.mu.Unlock()
	for _, c := range all {
		if c.c != nil {
			_ = c.c.Close()
		}
	}
}

// outMsg is a client message (gRPC) or frame (WebSocket) being rebuilt.
type outMsg struct {
	at         time.Duration // from the exchange's start, recorded (not yet ÷ speed)
	data       []byte
	compressed bool
	opcode     uint32
	truncated  bool
}

// rebuild makes the outgoing request from the recorded exchange (a Store
// reads its requests with rebuildStored instead, which gives the same).
func rebuild(ex *rprpb.Exchange) *outRequest {
	req := ex.GetRequest()
	o := &outRequest{
		method:    req.GetMethod(),
		path:      req.GetPath(),
		rawQuery:  req.GetRawQuery(),
		header:    make(http.Header, len(req.GetHeaders())),
		body:      bytes.Clone(req.GetBody().GetData()),
		truncated: req.GetBody().GetTruncated(),
	}
	for _, h := range req.GetHeaders() {
		name := h.GetName()
		if strings.HasPrefix(name, ":") || hopHeaders[strings.ToLower(name)] {
			continue
		}
		for _, v := range h.GetValues() {
			o.header.Add(name, v)
		}
	}
	o.finish(ex)
	return o
}

// finish completes a request rebuilt from an exchange's request message
// with what the exchange says around it: the protocol, the defaults, the
// gRPC method and the client's messages.
func (o *outRequest) finish(ex *rprpb.Exchange) {
	o.proto = ex.GetProtocol()
	if o.method == "" {
		o.method = http.MethodGet
	}
	if g := ex.GetGrpc(); g != nil && g.GetFullMethod() != "" {
		o.path = g.GetFullMethod()
	}
	if o.path == "" {
		o.path = "/"
	}
	var msgs []*rprpb.Message
	switch o.proto {
	case rprpb.Protocol_PROTOCOL_GRPC:
		msgs = ex.GetGrpc().GetMessages()
		o.grpcEncoding = o.header.Get("Grpc-Encoding")
	case rprpb.Protocol_PROTOCOL_WEBSOCKET:
		msgs = ex.GetWebsocket().GetMessages()
	}
	for _, m := range msgs {
		if m.GetDirection() != rprpb.Direction_DIRECTION_REQUEST {
			continue
		}
		o.msgs = append(o.msgs, outMsg{at: max(time.Duration(m.GetAtNs()-ex.GetStartNs()), 0),
			data: bytes.Clone(m.GetData()), compressed: m.GetCompressed(), opcode: m.GetOpcode(),
			truncated: m.GetTruncated()})
		o.truncated = o.truncated || m.GetTruncated()
	}
}

// decompressMessages leaves every gRPC request message uncompressed: the
// driver sends them so (with no grpc-encoding), and substitution needs the
// plain bytes.
func (o *outRequest) decompressMessages() error {
	for i := range o.msgs {
		m := &o.msgs[i]
		if !m.compressed {
			continue
		}
		b, ok := decodeBody(m.data, o.grpcEncoding)
		if !ok || o.grpcEncoding == "" {
			return fmt.Errorf("request message %d: grpc-encoding %q cannot be decoded", i, o.grpcEncoding)
		}
		m.data, m.compressed = b, false
	}
	o.header.Del("Grpc-Encoding")
	return nil
}

// call is the protocol.Call for the rebuilt request; message offsets are
// divided by speed.
func (o *outRequest) call(ex *rprpb.Exchange, speed float64, clock func() time.Duration) *protocol.Call {
	c := &protocol.Call{Protocol: o.proto, Method: o.method, Path: o.path, RawQuery: o.rawQuery,
		Header: o.header, Body: o.body, Kind: ex.GetGrpc().GetKind(), Clock: clock}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / speed) }
	for _, m := range o.msgs {
		c.Messages = append(c.Messages, protocol.OutMessage{At: scale(m.at), Data: m.data,
			Compressed: m.compressed, Opcode: m.opcode})
	}
	if o.proto == rprpb.Protocol_PROTOCOL_WEBSOCKET {
		c.Body = nil
		c.Hold = scale(max(time.Duration(ex.GetEndNs()-ex.GetStartNs()), 0))
	}
	return c
}
