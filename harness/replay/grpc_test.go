package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/internal/testproto/echo"
)

// echoServer is the test target: it notes when each client message reached
// it (its own clock), and the texts of the unary calls.
type echoServer struct {
	echo.UnimplementedEchoServer
	mu       sync.Mutex
	arrivals map[string][]time.Time // by call kind
	texts    []string
}

func (s *echoServer) arrived(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arrivals[kind] = append(s.arrivals[kind], time.Now())
}

// offsets returns when each message of a stream arrived, from start (the
// replayer's send of the call), by the one clock of this machine.
func (s *echoServer) offsets(kind string, start time.Time) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	a := s.arrivals[kind]
	for i := 1; i < len(a); i++ { // a[0] is the handler's start
		out = append(out, a[i].Sub(start))
	}
	return out
}

// sentAt is when the replay sent an exchange, on the wall clock: its
// results' anchor (the run's clock start) plus the result's send offset.
func sentAt(t *testing.T, dir string, res *rprpb.Result) time.Time {
	t.Helper()
	rd, err := recording.Open(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	defer rd.Close()
	return time.Unix(0, rd.Header().GetClock().GetAnchorUnixNano()+res.GetSentNs())
}

func (s *echoServer) seenTexts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.texts...)
}

func (s *echoServer) Unary(_ context.Context, r *echo.EchoRequest) (*echo.EchoResponse, error) {
	s.mu.Lock()
	s.texts = append(s.texts, r.GetText())
	s.mu.Unlock()
	if r.GetText() == "missing" {
		return nil, status.Error(codes.NotFound, "no such thing")
	}
	return &echo.EchoResponse{Text: r.GetText()}, nil
}

func (s *echoServer) ClientStream(st grpc.ClientStreamingServer[echo.EchoRequest, echo.EchoResponse]) error {
	s.arrived("client")
	n := 0
	for {
		if _, err := st.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return st.SendAndClose(&echo.EchoResponse{Index: int32(n)})
			}
			return err
		}
		s.arrived("client")
		n++
	}
}

// ServerStream issues live ids: "<text>-LIVE-200<i>".
func (s *echoServer) ServerStream(r *echo.EchoRequest, st grpc.ServerStreamingServer[echo.EchoResponse]) error {
	for i := range int(r.GetRepeat()) {
		if err := st.Send(&echo.EchoResponse{Text: fmt.Sprintf("%s-LIVE-200%d", r.GetText(), i+1), Index: int32(i)}); err != nil {
			return err
		}
	}
	return nil
}

// Bidi answers each message with a live id: "<text>-LIVE-300<i>".
func (s *echoServer) Bidi(st grpc.BidiStreamingServer[echo.EchoRequest, echo.EchoResponse]) error {
	s.arrived("bidi")
	for i := 0; ; i++ {
		r, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		s.arrived("bidi")
		if err := st.Send(&echo.EchoResponse{Text: fmt.Sprintf("%s-LIVE-300%d", r.GetText(), i+1), Index: int32(i)}); err != nil {
			return err
		}
	}
}

func grpcServer(t *testing.T) (*url.URL, *echoServer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	es := &echoServer{arrivals: map[string][]time.Time{}}
	echo.RegisterEchoServer(srv, es)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return &url.URL{Scheme: "http", Host: l.Addr().String()}, es
}

// gmsg is one recorded gRPC message; at in milliseconds.
type gmsg struct {
	resp bool
	atMs int64
	m    proto.Message
}

// gex is a hand-made gRPC exchange.
func gex(t *testing.T, id uint64, session, method string, kind rprpb.CallKind, startMs, endMs int64, code int32, msgs ...gmsg) *rprpb.Exchange {
	t.Helper()
	full := "/reprise.test.echo.v1.Echo/" + method
	g := &rprpb.Grpc{FullMethod: full, Kind: kind, StatusCode: code}
	for _, m := range msgs {
		b, err := proto.Marshal(m.m)
		require.NoError(t, err)
		dir := rprpb.Direction_DIRECTION_REQUEST
		if m.resp {
			dir = rprpb.Direction_DIRECTION_RESPONSE
		}
		g.Messages = append(g.Messages, &rprpb.Message{Direction: dir, AtNs: m.atMs * int64(time.Millisecond),
			Data: b, Size: int64(len(b))})
	}
	return &rprpb.Exchange{Id: id, Session: session, ConnectionId: 1, Protocol: rprpb.Protocol_PROTOCOL_GRPC,
		StartNs: startMs * int64(time.Millisecond), EndNs: endMs * int64(time.Millisecond),
		Request: &rprpb.Request{Method: "POST", Path: full, Headers: []*rprpb.Header{
			{Name: "Content-Type", Values: []string{"application/grpc"}}, {Name: "Te", Values: []string{"trailers"}},
			{Name: "X-Session-Id", Values: []string{session}}}},
		Response: &rprpb.Response{Status: 200}, Grpc: g}
}

func schedule(t *testing.T, mode plan.Mode, speed float64, exs ...*rprpb.Exchange) (*plan.Schedule, Exchanges) {
	t.Helper()
	src := Exchanges{}
	for _, e := range exs {
		src[e.GetId()] = e
	}
	p, err := plan.Build(exs)
	require.NoError(t, err)
	s, err := p.Schedule(mode, plan.Speed(speed))
	require.NoError(t, err)
	return s, src
}

func req(text string) *echo.EchoRequest { return &echo.EchoRequest{Text: text} }

// assertTiming checks that the server saw each client message at its
// recorded offset from the call's start ÷ speed, measured from the
// replayer's send of the call: a message cannot arrive before it is sent,
// so "not early" holds however loaded the machine (1 ms covers the wall
// and monotonic clocks' rounding), while "not late" is a loose bound for
// such a machine. Sending the messages back-to-back (the failure this
// catches) puts them all near 0.
func assertTiming(t *testing.T, got, want []time.Duration, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for i := range want {
		assert.GreaterOrEqual(t, got[i], want[i]-time.Millisecond, "%s message %d: at %s, want %s", what, i, got[i], want[i])
		assert.Less(t, got[i], want[i]+200*time.Millisecond, "%s message %d: at %s, want %s", what, i, got[i], want[i])
	}
	// Not bunched: at least half the spread between the first and last.
	assert.GreaterOrEqual(t, got[len(got)-1]-got[0], (want[len(want)-1]-want[0])/2, what)
}

func TestGRPCCallKindsReplayedWithMessageTiming(t *testing.T) {
	target, es := grpcServer(t)
	// One recorded connection carries the four calls, as HTTP/2 does. The
	// unary call opens it; the streams start 400 ms later with client
	// messages 0, 400 and 800 ms into the call, which at speed 2 the server
	// must see 0, 200 and 400 ms into it.
	s, src := schedule(t, plan.Recorded, 2,
		gex(t, 1, "u", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0,
			gmsg{atMs: 1, m: req("hello")}, gmsg{resp: true, atMs: 4, m: &echo.EchoResponse{Text: "hello"}}),
		gex(t, 2, "u", "ClientStream", rprpb.CallKind_CALL_KIND_CLIENT_STREAMING, 400, 1300, 0,
			gmsg{atMs: 400, m: req("a")}, gmsg{atMs: 800, m: req("b")}, gmsg{atMs: 1200, m: req("c")},
			gmsg{resp: true, atMs: 1210, m: &echo.EchoResponse{Index: 3}}),
		gex(t, 3, "u", "ServerStream", rprpb.CallKind_CALL_KIND_SERVER_STREAMING, 10, 50, 0,
			gmsg{atMs: 11, m: &echo.EchoRequest{Text: "x", Repeat: 3}},
			gmsg{resp: true, atMs: 20, m: &echo.EchoResponse{Text: "x-REC-1001"}},
			gmsg{resp: true, atMs: 30, m: &echo.EchoResponse{Text: "x-REC-1002"}},
			gmsg{resp: true, atMs: 40, m: &echo.EchoResponse{Text: "x-REC-1003"}}),
		gex(t, 4, "u", "Bidi", rprpb.CallKind_CALL_KIND_BIDI_STREAMING, 400, 1300, 0,
			gmsg{atMs: 400, m: req("p")}, gmsg{resp: true, atMs: 402, m: &echo.EchoResponse{Text: "p-REC-3001"}},
			gmsg{atMs: 800, m: req("q")}, gmsg{resp: true, atMs: 802, m: &echo.EchoResponse{Text: "q-REC-3002", Index: 1}},
			gmsg{atMs: 1200, m: req("r")}, gmsg{resp: true, atMs: 1202, m: &echo.EchoResponse{Text: "r-REC-3003", Index: 2}}),
	)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Requests.Sent)
	assert.Zero(t, sum.Requests.Unsupported)
	assert.Zero(t, sum.Errors.Total(), "%+v", sum.Errors)
	res := resultsByID(t, dir)
	for id, r := range res {
		assert.Empty(t, r.GetError(), "exchange %d", id)
		assert.Equal(t, int32(200), r.GetStatus(), "exchange %d", id)
		assert.Equal(t, int32(0), r.GetGrpcStatus(), "exchange %d: grpc-status OK is 0, not -1", id)
		assert.GreaterOrEqual(t, r.GetFirstByteNs(), r.GetSentNs())
		assert.GreaterOrEqual(t, r.GetDoneNs(), r.GetFirstByteNs())
		assert.False(t, r.GetDiff().GetStatusClassChanged(), "exchange %d", id)
	}
	// Live messages of 13, 15 and 15 bytes ("x-LIVE-2001" and an index)
	// against recorded ones of 12 bytes each.
	assert.InDelta(t, 43.0/36.0, res[3].GetDiff().GetBodySizeRatio(), 0.001, "the server stream's bytes against the recording's")
	assert.Equal(t, []string{"hello"}, es.seenTexts())
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	assertTiming(t, es.offsets("client", sentAt(t, dir, res[2])), ms(0, 200, 400), "client stream")
	assertTiming(t, es.offsets("bidi", sentAt(t, dir, res[4])), ms(0, 200, 400), "bidi")
	// The client stream's call lasted as long as its messages took.
	assert.GreaterOrEqual(t, time.Duration(res[2].GetDoneNs()-res[2].GetSentNs()), 390*time.Millisecond)
}

func TestGRPCStatusCaptured(t *testing.T) {
	target, _ := grpcServer(t)
	s, src := schedule(t, plan.ASAP, 1,
		gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("missing")}),
	)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	r := resultsByID(t, dir)[1]
	assert.Equal(t, int32(codes.NotFound), r.GetGrpcStatus(), "a trailers-only answer")
	assert.Equal(t, int32(200), r.GetStatus())
	assert.Empty(t, r.GetError(), "a status is an answer, not a transport failure")
	assert.True(t, r.GetDiff().GetStatusClassChanged(), "recorded OK, replayed NOT_FOUND")
	assert.Equal(t, 1, sum.Errors.GRPCNotOK)
	assert.Zero(t, sum.Errors.Transport)
}

func TestGRPCTransportFailureCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	s, src := schedule(t, plan.ASAP, 1,
		gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("hi")}),
	)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, &url.URL{Scheme: "http", Host: addr}, OutDir(dir), Timeout(5*time.Second))
	require.NoError(t, err)
	r := resultsByID(t, dir)[1]
	assert.NotEmpty(t, r.GetError())
	assert.Zero(t, r.GetStatus())
	assert.Equal(t, int32(codes.Unavailable), r.GetGrpcStatus())
	assert.Equal(t, 1, sum.Errors.Transport)
	assert.Zero(t, sum.Errors.GRPCNotOK)
}

func TestGRPCLiveValueSubstituted(t *testing.T) {
	target, es := grpcServer(t)
	// The server stream issues three ids; a later unary call sends the
	// third one back. On replay the server issues "x-LIVE-2003" instead.
	s, src := schedule(t, plan.Causal, 4,
		gex(t, 1, "a", "ServerStream", rprpb.CallKind_CALL_KIND_SERVER_STREAMING, 0, 30, 0,
			gmsg{atMs: 1, m: &echo.EchoRequest{Text: "x", Repeat: 3}},
			gmsg{resp: true, atMs: 10, m: &echo.EchoResponse{Text: "x-REC-1001"}},
			gmsg{resp: true, atMs: 20, m: &echo.EchoResponse{Text: "x-REC-1002", Index: 1}},
			gmsg{resp: true, atMs: 25, m: &echo.EchoResponse{Text: "x-REC-1003", Index: 2}}),
		gex(t, 2, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 40, 45, 0,
			gmsg{atMs: 41, m: &echo.EchoRequest{Text: "x-REC-1003", Payload: []byte{1, 2, 3}}}),
	)
	p := s.Plan()
	require.Len(t, p.Correlations, 1, "the planner links the third message's id to the unary request")
	assert.Equal(t, plan.PartGRPC, p.Correlations[0].Source.At.Part)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, []string{"x-LIVE-2003"}, es.seenTexts(), "the live id, in a message re-encoded around it")
	assert.Equal(t, 1, sum.Correlations.Applied)
	assert.Zero(t, sum.Correlations.Unresolved)
	assert.EqualValues(t, 1, resultsByID(t, dir)[2].GetSubstituted())
}

func TestGRPCMetadataBinaryDecoded(t *testing.T) {
	// Recorded "-bin" metadata is base64 on the wire; it must reach the
	// server as the original bytes, not base64 of base64.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	got := make(chan []string, 1)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, st grpc.ServerStream) error {
		md, _ := metadataFrom(st.Context())
		got <- md
		return status.Error(codes.Unimplemented, "x")
	}))
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	defer func() { srv.Stop(); <-done }()
	e := gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("hi")})
	e.Request.Headers = append(e.Request.Headers, &rprpb.Header{Name: "x-trace-bin", Values: []string{"AQID"}})
	s, src := schedule(t, plan.ASAP, 1, e)
	_, err = Run(context.Background(), s, src, &url.URL{Scheme: "http", Host: l.Addr().String()})
	require.NoError(t, err)
	select {
	case md := <-got:
		assert.Equal(t, []string{"\x01\x02\x03", "a"}, md)
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no call")
	}
}

// metadataFrom returns the test's two metadata values: the binary one and
// the session.
func metadataFrom(ctx context.Context) ([]string, bool) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil, false
	}
	return []string{strings.Join(md.Get("x-trace-bin"), ","), strings.Join(md.Get("x-session-id"), ",")}, true
}

func TestGRPCOverTLS(t *testing.T) {
	// Borrow httptest's certificate and the client configuration that
	// trusts it.
	hs := httptest.NewTLSServer(http.NotFoundHandler())
	cert := hs.TLS.Certificates[0]
	clientTLS := hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	hs.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	es := &echoServer{arrivals: map[string][]time.Time{}}
	echo.RegisterEchoServer(srv, es)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	defer func() { srv.Stop(); <-done }()

	s, src := schedule(t, plan.ASAP, 1,
		gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("over tls")}))
	target := &url.URL{Scheme: "https", Host: l.Addr().String()}
	sum, err := Run(context.Background(), s, src, target, TLS(clientTLS))
	require.NoError(t, err)
	assert.Zero(t, sum.Errors.Total(), "%+v", sum.Errors)
	assert.Equal(t, []string{"over tls"}, es.seenTexts(), "h2 over TLS")
}

func TestGRPCValueFromOpenStreamCapturedAsItArrives(t *testing.T) {
	target, es := grpcServer(t)
	// The bidi stream's first answer issues an id that a unary call uses
	// while the stream is still open (an unordered use: no edge waits for
	// the stream's end). The id must be captured when its message arrives.
	s, src := schedule(t, plan.Causal, 1,
		gex(t, 1, "a", "Bidi", rprpb.CallKind_CALL_KIND_BIDI_STREAMING, 0, 900, 0,
			gmsg{atMs: 1, m: req("p")}, gmsg{resp: true, atMs: 5, m: &echo.EchoResponse{Text: "p-REC-3001"}},
			gmsg{atMs: 800, m: req("q")}, gmsg{resp: true, atMs: 805, m: &echo.EchoResponse{Text: "q-REC-3002", Index: 1}}),
		gex(t, 2, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 300, 305, 0, gmsg{atMs: 301, m: req("p-REC-3001")}),
	)
	p := s.Plan()
	require.Len(t, p.Correlations, 1)
	require.Len(t, p.Correlations[0].Uses, 1)
	require.True(t, p.Correlations[0].Uses[0].Unordered, "the stream was open when the call started")
	dir := t.TempDir()
	_, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	res := resultsByID(t, dir)
	require.Less(t, res[2].GetDoneNs(), res[1].GetDoneNs(), "the call ran while the stream was open")
	assert.Equal(t, []string{"p-LIVE-3001"}, es.seenTexts())
	assert.EqualValues(t, 1, res[2].GetSubstituted())
}

// A stream recorded for longer than the per-request timeout keeps its
// message offsets: the timeout counts only after its recorded duration.
func TestGRPCStreamOutlastsTheTimeout(t *testing.T) {
	target, es := grpcServer(t)
	s, src := schedule(t, plan.Recorded, 1,
		gex(t, 1, "c", "ClientStream", rprpb.CallKind_CALL_KIND_CLIENT_STREAMING, 0, 700, 0,
			gmsg{atMs: 0, m: req("a")}, gmsg{atMs: 600, m: req("b")},
			gmsg{resp: true, atMs: 610, m: &echo.EchoResponse{Index: 2}}),
	)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir), Timeout(300*time.Millisecond))
	require.NoError(t, err)
	assert.Zero(t, sum.Errors.Total(), "%+v", sum.Errors)
	r := resultsByID(t, dir)[1]
	assert.Empty(t, r.GetError())
	assert.Equal(t, int32(0), r.GetGrpcStatus())
	assert.Len(t, es.offsets("client", time.Time{}), 2, "both messages reached the server")
}

// TestGRPCUndecodableCompressedMessageNotSent: a request message whose
// recorded grpc-encoding cannot be undone is not sent as if it were plain
// bytes; its Result says so, carries no sent time (so no bogus lag), and
// the summary counts it as unbuilt and as a build error.
func TestGRPCUndecodableCompressedMessageNotSent(t *testing.T) {
	target, es := grpcServer(t)
	bad := gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("squeezed")})
	bad.Request.Headers = append(bad.Request.Headers, &rprpb.Header{Name: "Grpc-Encoding", Values: []string{"snappy"}})
	bad.Grpc.Messages[0].Compressed = true
	good := gex(t, 2, "b", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("plain")})
	s, src := schedule(t, plan.ASAP, 1, bad, good)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	rs := resultsByID(t, dir)
	r := rs[1]
	assert.Contains(t, r.GetError(), "not sent")
	assert.Contains(t, r.GetError(), `grpc-encoding "snappy"`)
	assert.Zero(t, r.GetSentNs(), "never sent: no sent time")
	assert.True(t, NotSent(r))
	assert.False(t, NotSent(rs[2]))
	assert.Equal(t, []string{"plain"}, es.seenTexts(), "only the plain call reached the server")
	assert.Equal(t, 1, sum.Requests.Unbuilt)
	assert.Equal(t, 1, sum.Errors.Build)
	assert.Equal(t, 1, sum.Requests.Sent)
	assert.Equal(t, 1, sum.Errors.Total())
}

// TestGRPCEveryRequestUnbuiltIsInvalid: a run whose requests could none be
// built measured nothing; it is invalid and says why.
func TestGRPCEveryRequestUnbuiltIsInvalid(t *testing.T) {
	target, es := grpcServer(t)
	var exs []*rprpb.Exchange
	for i, session := range []string{"a", "b"} {
		bad := gex(t, uint64(i+1), session, "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("squeezed")})
		bad.Request.Headers = append(bad.Request.Headers, &rprpb.Header{Name: "Grpc-Encoding", Values: []string{"snappy"}})
		bad.Grpc.Messages[0].Compressed = true
		exs = append(exs, bad)
	}
	s, src := schedule(t, plan.ASAP, 1, exs...)
	sum, err := Run(context.Background(), s, src, target)
	require.NoError(t, err, "a request that cannot be built is bad input for that request, not a failed run")
	assert.Empty(t, es.seenTexts())
	assert.Equal(t, 2, sum.Requests.Unbuilt)
	assert.False(t, sum.Valid)
	assert.Contains(t, sum.Reason, "2 of 2 requests (100.00%) not sent (2 unbuilt, 0 dropped)")
}

// A driver's note (a header gRPC refuses, left out) reaches the result's
// error text, and the call, which went out, is no failure.
func TestGRPCDriverNoteInTheResult(t *testing.T) {
	target, es := grpcServer(t)
	e := gex(t, 1, "a", "Unary", rprpb.CallKind_CALL_KIND_UNARY, 0, 5, 0, gmsg{atMs: 1, m: req("hi")})
	e.Request.Headers = append(e.Request.Headers, &rprpb.Header{Name: "X-User", Values: []string{"José"}})
	s, src := schedule(t, plan.ASAP, 1, e)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	r := resultsByID(t, dir)[1]
	assert.Contains(t, r.GetError(), "metadata x-user not sent")
	assert.False(t, r.GetFailed())
	assert.Zero(t, sum.Errors.Total())
	assert.Equal(t, []string{"hi"}, es.seenTexts())
}
