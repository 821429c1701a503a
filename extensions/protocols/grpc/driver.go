package grpc

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/encoding/gzip" // servers that answer gzip-compressed messages
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// maxRecvMessage lets the replay read any message a real server sends; only
// the target's MaxBody of each is kept.
const maxRecvMessage = 256 << 20

// Replays claims gRPC calls.
func (Codec) Replays(p rprpb.Protocol) bool { return p == rprpb.Protocol_PROTOCOL_GRPC }

// Dial returns a client over one ClientConn: h2c (prior knowledge) on an
// http target, h2 over TLS on https. It connects on the first call.
func (Codec) Dial(t protocol.Target) (protocol.Conn, error) {
	if t.URL == nil || t.URL.Host == "" {
		return nil, fmt.Errorf("grpc: target %v: want http(s)://host[:port]", t.URL)
	}
	var creds credentials.TransportCredentials
	switch t.URL.Scheme {
	case "http":
		creds = insecure.NewCredentials()
	case "https":
		conf := t.TLS.Clone()
		if conf == nil {
			conf = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		creds = credentials.NewTLS(conf)
	default:
		return nil, fmt.Errorf("grpc: target %v: want http(s)://host[:port]", t.URL)
	}
	host := t.URL.Host
	if t.URL.Port() == "" { // as an HTTP client would: the scheme's port
		port := "80"
		if t.URL.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(t.URL.Hostname(), port)
	}
	cc, err := ggrpc.NewClient("passthrough:///"+host,
		ggrpc.WithTransportCredentials(creds),
		ggrpc.WithStatsHandler(traceHandler{}),
		ggrpc.WithDefaultCallOptions(ggrpc.ForceCodec(rawCodec{}), ggrpc.MaxCallRecvMsgSize(maxRecvMessage)),
		ggrpc.WithDisableRetry(), // a replay sends what was recorded, once
	)
	if err != nil {
		return nil, fmt.Errorf("grpc: target %v: %w", t.URL, err)
	}
	return &conn{t: t, cc: cc}, nil
}

type conn struct {
	t  protocol.Target
	cc *ggrpc.ClientConn
}

func (c *conn) Close() error { return c.cc.Close() }

// Do replays one call from raw message bytes: client messages go out at
// their offsets from the call's start while a second goroutine reads the
// server's messages, header and trailers.
//
// The call streams both ways whatever its recorded Kind says: the kind is
// a guess from message counts (a server stream that answered once, or not
// at all, was recorded as unary), the bytes on the wire are the same, and
// a unary or one-way stream would have grpc-go fail an answer with more or
// fewer messages than the guess as INTERNAL and drop them. Exactly the
// recorded client messages go out.
//
// Timeout is enforced by a timer that cancels the call, not by a context
// deadline, which grpc-go would send the server as grpc-timeout: the
// harness's limit is not the recorded client's. A call that ends because
// of it, or because ctx ended, is an error wrapping
// context.DeadlineExceeded or ctx's error, not a status from the server.
func (c *conn) Do(ctx context.Context, call *protocol.Call) (*protocol.Reply, error) {
	rep := &protocol.Reply{GRPCStatus: -1}
	tr := &callTrace{clock: call.Clock}
	ctx, cancel := context.WithCancel(context.WithValue(ctx, traceKey{}, tr))
	defer cancel()
	var timedOut atomic.Bool
	if call.Timeout > 0 {
		timer := time.AfterFunc(call.Timeout, func() { timedOut.Store(true); cancel() })
		defer timer.Stop()
	}
	ended := func() error { // why the call's own side ended it, if it did
		switch {
		case timedOut.Load():
			return context.DeadlineExceeded
		case ctx.Err() != nil:
			return context.Cause(ctx)
		}
		return nil
	}
	md, dropped := outgoingMD(call.Header)
	for _, k := range dropped {
		rep.Notes = append(rep.Notes, "metadata "+k+" not sent: gRPC allows only printable ASCII in a text value or key")
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	msgs := call.Messages
	desc := &ggrpc.StreamDesc{StreamName: call.Path, ClientStreams: true, ServerStreams: true}
	start := time.Now()
	rep.Sent = call.Clock()
	cs, err := c.cc.NewStream(ctx, desc, call.Path)
	if err != nil {
		rep.Done = call.Clock()
		return c.finish(rep, tr, nil, err, ended())
	}
	sendDone := make(chan struct{})
	go func() { // the sender; it ends with the call (cancel above)
		defer close(sendDone)
		send(ctx, cs, msgs, start)
	}()
	hdr, _ := cs.Header() // nil once the call ended (trailers-only or failure)
	rep.Header = httpHeader(hdr)
	limit := c.t.Limit()
	for i := 0; ; i++ {
		var b []byte
		err = cs.RecvMsg(&b)
		if err != nil {
			break
		}
		m := &rprpb.Message{Direction: rprpb.Direction_DIRECTION_RESPONSE, AtNs: int64(call.Clock()), Size: int64(len(b))}
		m.Data, m.Truncated = b[:min(len(b), limit)], len(b) > limit
		rep.Size += int64(len(b))
		rep.Messages = append(rep.Messages, m)
		if call.OnMessage != nil {
			call.OnMessage(i, m)
		}
		if call.DiscardMessageData {
			m.Data = nil
		}
	}
	rep.Done = call.Clock()
	why := ended()
	cancel()
	<-sendDone
	return c.finish(rep, tr, cs.Trailer(), err, why)
}

// send writes the client messages at their offsets, then half-closes.
func send(ctx context.Context, cs ggrpc.ClientStream, msgs []protocol.OutMessage, start time.Time) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for _, m := range msgs {
		if wait := m.At - time.Since(start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if err := cs.SendMsg(m.Data); err != nil {
			return // io.EOF: the server ended the call; RecvMsg reports why
		}
	}
	_ = cs.CloseSend()
}

// finish sets the status. A call the server answered, whatever its status,
// is not an error; one that never reached it is a transport failure, and
// so is one our side ended before its grpc-status came (ended: the
// Timeout, or the caller's ctx): that error, and no status.
func (c *conn) finish(rep *protocol.Reply, tr *callTrace, trailer metadata.MD, err, ended error) (*protocol.Reply, error) {
	rep.Trailer = httpHeader(trailer)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	st := status.Convert(err)
	rep.GRPCStatus, rep.GRPCMessage = int32(st.Code()), st.Message()
	if fb := tr.firstByte.Load(); fb > 0 {
		rep.FirstByte = time.Duration(fb)
	} else {
		rep.FirstByte = rep.Done
	}
	switch {
	case ended != nil && err != nil:
		// No grpc-status came: like a call that got no answer, it has no
		// status at all (Status 0), whatever headers arrived.
		rep.GRPCStatus, rep.GRPCMessage = -1, ""
		return rep, fmt.Errorf("grpc: call ended on our side: %w", ended)
	case tr.answered.Load():
		rep.Status = http.StatusOK
		return rep, nil
	}
	if code, ok := httpStatusOf(st.Message()); ok {
		// An HTTP answer that was not gRPC (a proxy's 503): the server
		// answered, and a gRPC client sees the status grpc-go maps it to.
		rep.Status = code
		return rep, nil
	}
	if err == nil {
		err = errors.New("no response")
	}
	return rep, fmt.Errorf("grpc: %w", err)
}

// httpStatusPrefix starts the message grpc-go gives a call whose answer
// had an HTTP status other than 200 and no grpc-status.
const httpStatusPrefix = "unexpected HTTP status code received from server: "

// httpStatusOf reads the HTTP status out of such a message.
func httpStatusOf(msg string) (int, bool) {
	_, rest, ok := strings.Cut(msg, httpStatusPrefix)
	if !ok {
		return 0, false
	}
	n := 0
	for i := 0; i < len(rest) && i < 3 && '0' <= rest[i] && rest[i] <= '9'; i++ {
		n = n*10 + int(rest[i]-'0')
	}
	return n, 100 <= n && n <= 599
}

// httpHeader copies gRPC metadata (lower-case keys) into an http.Header
// (canonical keys), so that Get and Values find response headers such as
// Set-Cookie and ETag by name.
func httpHeader(md metadata.MD) http.Header {
	if md == nil {
		return nil
	}
	h := make(http.Header, len(md))
	for k, vs := range md {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return h
}

// outgoingMD turns the recorded request headers into metadata. Binary
// ("-bin") values were recorded base64-encoded, as on the wire; gRPC
// encodes them again, so they are decoded here. gRPC drops the headers it
// owns (content-type, te, grpc-timeout, ...) itself.
//
// A key or text value grpc-go refuses (outside [0-9a-z-_.], or a value
// not printable ASCII, such as UTF-8 that another client sent and the
// server accepted) would fail the whole call before it is sent; such a
// header is left out instead, and named in dropped, sorted.
func outgoingMD(h http.Header) (md metadata.MD, dropped []string) {
	md = metadata.MD{}
	for name, vs := range h {
		k := strings.ToLower(name)
		if k == "user-agent" {
			continue // gRPC sets its own and would prepend ours
		}
		if !validKey(k) {
			dropped = append(dropped, k)
			continue
		}
		bin := strings.HasSuffix(k, "-bin")
		for _, v := range vs {
			if bin {
				if b, err := decodeBin(v); err == nil {
					v = string(b)
				}
			} else if !printableASCII(v) {
				dropped = append(dropped, k)
				continue
			}
			md.Append(k, v)
		}
	}
	slices.Sort(dropped)
	return md, slices.Compact(dropped)
}

// validKey is grpc-go's rule for a metadata key.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	if k[0] == ':' {
		return true // a pseudo-header: gRPC ignores it
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// printableASCII is grpc-go's rule for a text metadata value.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

func decodeBin(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// rawCodec passes message bytes through: the replay sends what was recorded
// and reads what the server sends, with no schema.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" } // the content subtype a real client announces

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("grpc: raw codec: marshal %T, want []byte", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpc: raw codec: unmarshal into %T, want *[]byte", v)
	}
	*p = append([]byte(nil), data...)
	return nil
}

// callTrace is what the stats handler learns of one call.
type callTrace struct {
	clock     func() time.Duration
	firstByte atomic.Int64
	answered  atomic.Bool
}

type traceKey struct{}

// traceHandler marks a call answered, and stamps its first byte, when the
// server's header, trailers or first message arrive.
type traceHandler struct{}

func (traceHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (traceHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	tr, _ := ctx.Value(traceKey{}).(*callTrace)
	if tr == nil {
		return
	}
	switch s.(type) {
	case *stats.InHeader, *stats.InTrailer, *stats.InPayload:
		tr.answered.Store(true)
		tr.firstByte.CompareAndSwap(0, int64(tr.clock()))
	}
}

func (traceHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (traceHandler) HandleConn(context.Context, stats.ConnStats) {}

var (
	_ protocol.Driver = Codec{}
	_ protocol.Conn   = (*conn)(nil)
	_ stats.Handler   = traceHandler{}
)
