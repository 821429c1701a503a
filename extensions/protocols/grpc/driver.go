package grpc

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	cc, err := ggrpc.NewClient("passthrough:///"+t.URL.Host,
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
func (c *conn) Do(ctx context.Context, call *protocol.Call) (*protocol.Reply, error) {
	rep := &protocol.Reply{GRPCStatus: -1}
	tr := &callTrace{clock: call.Clock}
	ctx, release := call.Bound(ctx)
	defer release()
	ctx, cancel := context.WithCancel(context.WithValue(ctx, traceKey{}, tr))
	defer cancel()
	ctx = metadata.NewOutgoingContext(ctx, outgoingMD(call.Header))
	clientStreams, serverStreams := true, true
	switch call.Kind {
	case rprpb.CallKind_CALL_KIND_UNARY:
		clientStreams, serverStreams = false, false
	case rprpb.CallKind_CALL_KIND_CLIENT_STREAMING:
		serverStreams = false
	case rprpb.CallKind_CALL_KIND_SERVER_STREAMING:
		clientStreams = false
	}
	msgs := call.Messages
	if !clientStreams && len(msgs) == 0 {
		// A unary request must carry one message; the capture lost it.
		msgs = []protocol.OutMessage{{}}
	}
	desc := &ggrpc.StreamDesc{StreamName: call.Path, ClientStreams: clientStreams, ServerStreams: serverStreams}
	start := time.Now()
	rep.Sent = call.Clock()
	cs, err := c.cc.NewStream(ctx, desc, call.Path)
	if err != nil {
		rep.Done = call.Clock()
		return c.finish(rep, tr, nil, err)
	}
	sendDone := make(chan struct{})
	go func() { // the sender; it ends with the call (cancel above)
		defer close(sendDone)
		send(ctx, cs, msgs, start)
	}()
	hdr, _ := cs.Header() // nil once the call ended (trailers-only or failure)
	rep.Header = http.Header(hdr)
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
	cancel()
	<-sendDone
	return c.finish(rep, tr, cs.Trailer(), err)
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
// is not an error; one that never reached it is a transport failure.
func (c *conn) finish(rep *protocol.Reply, tr *callTrace, trailer metadata.MD, err error) (*protocol.Reply, error) {
	rep.Trailer = http.Header(trailer)
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
	if tr.answered.Load() {
		rep.Status = http.StatusOK
		return rep, nil
	}
	if err == nil {
		err = errors.New("no response")
	}
	return rep, fmt.Errorf("grpc: %w", err)
}

// outgoingMD turns the recorded request headers into metadata. Binary
// ("-bin") values were recorded base64-encoded, as on the wire; gRPC
// encodes them again, so they are decoded here. gRPC drops the headers it
// owns (content-type, te, grpc-timeout, ...) itself.
func outgoingMD(h http.Header) metadata.MD {
	md := metadata.MD{}
	for name, vs := range h {
		k := strings.ToLower(name)
		if k == "user-agent" {
			continue // gRPC sets its own and would prepend ours
		}
		for _, v := range vs {
			if strings.HasSuffix(k, "-bin") {
				if b, err := decodeBin(v); err == nil {
					v = string(b)
				}
			}
			md.Append(k, v)
		}
	}
	return md
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
