package websocket

import (
	"context"
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
	ctx, release := call.Bound(ctx)
	defer release()
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
	rep.Sent = call.Clock()
	// Offsets count from after Sent, so a socket is never held for less
	// than its recorded time as the results measure it.
	start := time.Now()
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
	if err != nil || ctx.Err() != nil {
		ws.CloseNow() // ends the reader at once
	}
	<-readDone // the server closed, the close handshake ended, or ctx did
	rep.Done = call.Clock()
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
			payload := m.Data
			if len(payload) < 2 || len(payload) > maxClosePayload {
				payload = normalClosure
			}
			return closeHandshake(ctx, ws, payload, readDone)
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
	return closeHandshake(ctx, ws, normalClosure, readDone)
}

// closeFrame is the close opcode as a message type. The library writes any
// message type as that frame's opcode, and a frame with the close opcode
// counts as the close sent: when the peer's close frame arrives, the
// reading Reader call ends the connection (as after a close the peer
// started) and returns the CloseError.
const closeFrame = cws.MessageType(8)

// maxClosePayload is the largest control frame payload.
const maxClosePayload = 125

// closeTimeout bounds the wait for the peer's close frame once ours went
// out, as the library's own Close does.
const closeTimeout = 5 * time.Second

// normalClosure is the payload of a close frame with status 1000.
var normalClosure = []byte{0x03, 0xe8}

// closeHandshake sends the close frame with payload and waits until the
// reader has read up to the peer's close frame. The library's Close is not
// used: it reads that far itself and drops the data frames on the way, so
// a server frame still in flight, or not yet read, when the close goes out
// (a reply to the frame just before the recorded close on a target slower
// than the recording, or on a sped-up replay) would never reach OnMessage,
// and a live value in it would be lost.
func closeHandshake(ctx context.Context, ws *cws.Conn, payload []byte, readDone <-chan struct{}) error {
	if err := ws.Write(ctx, closeFrame, payload); err != nil {
		return closeErr(err)
	}
	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-readDone:
	case <-ctx.Done():
	case <-timer.C:
		return fmt.Errorf("close handshake: no close frame from the server within %v", closeTimeout)
	}
	return nil
}

// closeErr drops the errors a close handshake raced by the peer's own
// close reports: our close frame may find the connection already closed
// after the peer's, and the reader may see it closed under it.
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
