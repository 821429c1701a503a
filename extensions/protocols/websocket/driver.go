package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	cws "github.com/coder/websocket"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Replays claims WebSocket connections.
func (Codec) Replays(p rprpb.Protocol) bool { return p == rprpb.Protocol_PROTOCOL_WEBSOCKET }

// Dial returns a client that opens one WebSocket per call over HTTP/1.1
// (ws on an http target, wss on https).
func (Codec) Dial(t protocol.Target) (protocol.Conn, error) {
	if t.URL == nil || (t.URL.Scheme != "http" && t.URL.Scheme != "https") || t.URL.Host == "" {
		return nil, fmt.Errorf("websocket: target %v: want http(s)://host[:port]", t.URL)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	tr := &http.Transport{Proxy: nil, TLSClientConfig: t.TLS.Clone(), Protocols: &p, DisableCompression: true}
	return &conn{t: t, tr: tr}, nil
}

type conn struct {
	t  protocol.Target
	tr *http.Transport
}

func (c *conn) Close() error {
	c.tr.CloseIdleConnections()
	return nil
}

// handshakeHeaders are set by the WebSocket client itself.
var handshakeHeaders = []string{"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions",
	"Sec-Websocket-Protocol", "Upgrade", "Connection"}

// Do opens the WebSocket, sends the client's data frames at their offsets
// from the start (a recorded close frame closes), reads every server frame
// and ends when either side closed, or when the call's Hold has passed.
func (c *conn) Do(ctx context.Context, call *protocol.Call) (*protocol.Reply, error) {
	rep := &protocol.Reply{GRPCStatus: -1}
	u := c.t.URL
	target := strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/") + call.Path
	if call.RawQuery != "" {
		target += "?" + call.RawQuery
	}
	hdr := call.Header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	var subprotocols []string
	for _, v := range hdr.Values("Sec-Websocket-Protocol") {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				subprotocols = append(subprotocols, s)
			}
		}
	}
	for _, h := range handshakeHeaders {
		hdr.Del(h)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	rep.Sent = call.Clock()
	ws, resp, err := cws.Dial(ctx, target, &cws.DialOptions{
		// Never follow a redirect: it could lead off the vetted target.
		HTTPClient: &http.Client{Transport: c.tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		HTTPHeader:      hdr,
		Subprotocols:    subprotocols,
		CompressionMode: cws.CompressionDisabled,
	})
	rep.FirstByte = call.Clock()
	if resp != nil {
		rep.Status, rep.Header = resp.StatusCode, resp.Header
	}
	if err != nil {
		rep.Done = rep.FirstByte
		// A *url.Error quotes the URL, whose query may hold a credential:
		// keep only its cause for the results file.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return rep, fmt.Errorf("websocket: %w", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1) // read whole messages of any size, keeping MaxBody bytes
	readDone := make(chan struct{})
	var readErr error
	go func() {
		defer close(readDone)
		readErr = c.read(ctx, ws, call, rep)
	}()
	err = c.send(ctx, ws, call, start, readDone)
	if ctx.Err() != nil {
		ws.CloseNow() // ends the reader at once
	}
	<-readDone // the server closed, the close handshake ended, or ctx did
	rep.Done = call.Clock()
	// Once our close went out, the reader may see the connection closed
	// under it before the peer's close frame: that ends it normally too.
	if err == nil {
		err = closeErr(readErr)
	}
	if err != nil && ctx.Err() == nil {
		return rep, fmt.Errorf("websocket: %w", err)
	}
	return rep, err
}

// send writes the client's frames at their offsets, then closes: at the
// recorded close frame, or once Hold has passed; the reader then ends with
// the close handshake. It stops early when the reader ended (the server
// closed) or ctx did.
func (c *conn) send(ctx context.Context, ws *cws.Conn, call *protocol.Call, start time.Time, readDone <-chan struct{}) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(at time.Duration) bool {
		if d := at - time.Since(start); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return false
			case <-readDone:
				return false
			}
		}
		return true
	}
	for _, m := range joinFragments(call.Messages) {
		if m.Opcode != 1 && m.Opcode != 2 && m.Opcode != 8 {
			continue // pings and pongs are the library's
		}
		if !wait(m.At) {
			return nil
		}
		if m.Opcode == 8 {
			code, reason := cws.StatusNormalClosure, ""
			if len(m.Data) >= 2 {
				code, reason = cws.StatusCode(binary.BigEndian.Uint16(m.Data)), string(m.Data[2:])
			}
			return closeErr(ws.Close(code, reason))
		}
		typ := cws.MessageText
		if m.Opcode == 2 {
			typ = cws.MessageBinary
		}
		if err := ws.Write(ctx, typ, m.Data); err != nil {
			return err
		}
	}
	if !wait(call.Hold) {
		return nil
	}
	return closeErr(ws.Close(cws.StatusNormalClosure, ""))
}

// closeErr drops the errors a close handshake raced by the peer's own
// close reports.
func closeErr(err error) error {
	if err == nil || isClose(err) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// read collects the server's data frames until the connection closes.
func (c *conn) read(ctx context.Context, ws *cws.Conn, call *protocol.Call, rep *protocol.Reply) error {
	limit := int64(c.t.Limit())
	for i := 0; ; i++ {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(r, limit))
		if err != nil {
			return err
		}
		rest, err := io.Copy(io.Discard, r)
		if err != nil {
			return err
		}
		m := &rprpb.Message{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: int64(call.Clock()),
			Data: data, Size: int64(len(data)) + rest, Truncated: rest > 0, Opcode: 1}
		if typ == cws.MessageBinary {
			m.Opcode = 2
		}
		rep.Size += m.Size
		rep.Messages = append(rep.Messages, m)
		if call.OnMessage != nil {
			call.OnMessage(i, m)
		}
		if call.DiscardMessageData {
			m.Data = nil
		}
	}
}

// isClose reports a normal end: a close frame from either side.
func isClose(err error) bool {
	return cws.CloseStatus(err) != -1
}

// joinFragments folds continuation frames (opcode 0) into the data frame
// they continue, since the library sends whole messages.
func joinFragments(msgs []protocol.OutMessage) []protocol.OutMessage {
	out := make([]protocol.OutMessage, 0, len(msgs))
	for _, m := range msgs {
		if m.Opcode == 0 && len(out) > 0 && (out[len(out)-1].Opcode == 1 || out[len(out)-1].Opcode == 2) {
			last := &out[len(out)-1]
			last.Data = append(last.Data[:len(last.Data):len(last.Data)], m.Data...)
			continue
		}
		out = append(out, m)
	}
	return out
}

var (
	_ protocol.Driver = Codec{}
	_ protocol.Conn   = (*conn)(nil)
)
