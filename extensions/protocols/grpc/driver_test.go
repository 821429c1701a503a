package grpc

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ggrpc "google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/testproto/echo"
)

// serve runs an Echo server on loopback and returns its URL.
func serve(t *testing.T, impl echo.EchoServer) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := ggrpc.NewServer()
	echo.RegisterEchoServer(srv, impl)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return &url.URL{Scheme: "http", Host: l.Addr().String()}
}

// do replays one call of method with one request message.
func do(t *testing.T, ctx context.Context, u *url.URL, method string, kind rprpb.CallKind, req *echo.EchoRequest, timeout time.Duration) (*protocol.Reply, error) {
	t.Helper()
	c, err := Codec{}.Dial(protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_GRPC})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	b, err := proto.Marshal(req)
	require.NoError(t, err)
	t0 := time.Now()
	return c.Do(ctx, &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_GRPC, Method: "POST",
		Path: "/reprise.test.echo.v1.Echo/" + method, Kind: kind, Timeout: timeout,
		Messages: []protocol.OutMessage{{Data: b}}, Clock: func() time.Duration { return time.Since(t0) }})
}

// A server stream that answered once or not at all was recorded as unary
// (the kind is a guess from message counts): its replay must take however
// many messages the server sends now, with the server's OK.
func TestAStreamRecordedAsUnaryTakesEveryAnswer(t *testing.T) {
	u := serve(t, streamServer{})
	for _, n := range []int{0, 1, 2} {
		rep, err := do(t, context.Background(), u, "ServerStream", rprpb.CallKind_CALL_KIND_UNARY,
			&echo.EchoRequest{Text: "m", Repeat: int32(n)}, 10*time.Second)
		require.NoError(t, err, "%d answers", n)
		assert.Equal(t, int32(0), rep.GRPCStatus, "%d answers: %s", n, rep.GRPCMessage)
		assert.Len(t, rep.Messages, n)
	}
}

// holdServer sends its header, then holds the call until the client ends
// it, noting the grpc-timeout the client announced, if any.
type holdServer struct {
	echo.UnimplementedEchoServer
	sawTimeout atomic.Bool
	held       chan struct{}
}

func (s *holdServer) ServerStream(_ *echo.EchoRequest, st ggrpc.ServerStreamingServer[echo.EchoResponse]) error {
	md, _ := metadata.FromIncomingContext(st.Context())
	s.sawTimeout.Store(len(md.Get("grpc-timeout")) > 0)
	if err := st.SendHeader(metadata.Pairs("x-held", "1")); err != nil {
		return err
	}
	s.held <- struct{}{}
	<-st.Context().Done()
	return st.Context().Err()
}

// The harness's Timeout and the caller's ctx end a call on our side: that
// is an error wrapping why, not a DEADLINE_EXCEEDED or CANCELLED status
// from a server that answered, and the Timeout is not sent to the server
// as grpc-timeout (it is not the recorded client's).
func TestACallOurSideEndsIsAnErrorNotAServerStatus(t *testing.T) {
	hs := &holdServer{held: make(chan struct{}, 1)}
	u := serve(t, hs)
	rep, err := do(t, context.Background(), u, "ServerStream", rprpb.CallKind_CALL_KIND_SERVER_STREAMING,
		&echo.EchoRequest{Text: "m"}, 200*time.Millisecond)
	<-hs.held
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int32(-1), rep.GRPCStatus, "no status came from the server")
	assert.Zero(t, rep.Status, "no grpc-status came: a transport failure, however far the call got")
	assert.Equal(t, "1", rep.Header.Get("X-Held"), "what did come is kept")
	assert.False(t, hs.sawTimeout.Load(), "grpc-timeout sent to the server")

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-hs.held; cancel() }()
	rep, err = do(t, ctx, u, "ServerStream", rprpb.CallKind_CALL_KIND_SERVER_STREAMING, &echo.EchoRequest{Text: "m"}, 0)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(-1), rep.GRPCStatus)
}

// metaServer answers with response metadata a later request may carry.
type metaServer struct{ echo.UnimplementedEchoServer }

func (metaServer) Unary(ctx context.Context, _ *echo.EchoRequest) (*echo.EchoResponse, error) {
	_ = ggrpc.SetHeader(ctx, metadata.Pairs("set-cookie", "sid=live-1", "etag", `"v2"`))
	_ = ggrpc.SetTrailer(ctx, metadata.Pairs("x-trace-id", "t-9"))
	return &echo.EchoResponse{Text: "ok"}, nil
}

// Response metadata is keyed as an http.Header is, so live values are
// captured from it by name.
func TestResponseMetadataHasCanonicalKeys(t *testing.T) {
	u := serve(t, metaServer{})
	rep, err := do(t, context.Background(), u, "Unary", rprpb.CallKind_CALL_KIND_UNARY, &echo.EchoRequest{}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "sid=live-1", rep.Header.Get("Set-Cookie"))
	assert.Equal(t, `"v2"`, rep.Header.Get("ETag"))
	assert.Equal(t, "t-9", rep.Trailer.Get("X-Trace-Id"))
}

// A proxy in front of the service that answers with plain HTTP (503, no
// grpc-status) did answer: its status is kept, and the gRPC status is the
// one a client maps it to, not a transport failure.
func TestANonGRPCAnswerKeepsItsHTTPStatus(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
	}), Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	rep, err := do(t, context.Background(), &url.URL{Scheme: "http", Host: l.Addr().String()}, "Unary",
		rprpb.CallKind_CALL_KIND_UNARY, &echo.EchoRequest{}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, rep.Status)
	assert.Equal(t, int32(14), rep.GRPCStatus, "UNAVAILABLE, as grpc-go maps 503")
	for _, msg := range []string{"", "unexpected HTTP status code received from server: 99", "unexpected HTTP status code received from server: x"} {
		_, ok := httpStatusOf(msg)
		assert.False(t, ok, msg)
	}
}

// A target with no port is dialled on its scheme's, as an HTTP client
// would, not refused for a missing port.
func TestATargetWithoutAPortDialsTheSchemes(t *testing.T) {
	for scheme, want := range map[string]string{"http": "passthrough:///stage.internal:80", "https": "passthrough:///stage.internal:443"} {
		c, err := Codec{}.Dial(protocol.Target{URL: &url.URL{Scheme: scheme, Host: "stage.internal"}, Protocol: rprpb.Protocol_PROTOCOL_GRPC})
		require.NoError(t, err)
		assert.Equal(t, want, c.(*conn).cc.Target())
		require.NoError(t, c.Close())
	}
}

// seenServer notes the metadata its unary calls carried.
type seenServer struct {
	echo.UnimplementedEchoServer
	md chan metadata.MD
}

func (s seenServer) Unary(ctx context.Context, _ *echo.EchoRequest) (*echo.EchoResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.md <- md
	return &echo.EchoResponse{}, nil
}

// A recorded header gRPC refuses to send (UTF-8 that another client sent
// and the server took, a key with an upper-case byte gone astray) is left
// out and named in a note; the call still goes out, where grpc-go would
// fail it before sending.
func TestMetadataGRPCRefusesIsLeftOutAndNoted(t *testing.T) {
	srv := seenServer{md: make(chan metadata.MD, 1)}
	u := serve(t, srv)
	c, err := Codec{}.Dial(protocol.Target{URL: u, Protocol: rprpb.Protocol_PROTOCOL_GRPC})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	t0 := time.Now()
	rep, err := c.Do(context.Background(), &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_GRPC, Method: "POST",
		Path: "/reprise.test.echo.v1.Echo/Unary", Timeout: 10 * time.Second,
		Header:   http.Header{"X-User": {"José"}, "X-Ok": {"fine"}, "X Bad Key": {"v"}},
		Messages: []protocol.OutMessage{{Data: nil}}, Clock: func() time.Duration { return time.Since(t0) }})
	require.NoError(t, err)
	assert.Equal(t, int32(0), rep.GRPCStatus, rep.GRPCMessage)
	md := <-srv.md
	assert.Equal(t, []string{"fine"}, md.Get("x-ok"))
	assert.Empty(t, md.Get("x-user"))
	assert.Equal(t, []string{
		"metadata x bad key not sent: gRPC allows only printable ASCII in a text value or key",
		"metadata x-user not sent: gRPC allows only printable ASCII in a text value or key",
	}, rep.Notes)
	for _, n := range rep.Notes {
		assert.NotContains(t, n, "José", "a note never holds a value")
	}
}
