package proxy_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/testproto/echo"
	"github.com/reprise-dev/reprise/recorders/proxy"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

// echoServer implements every call kind of the test service.
type echoServer struct {
	echo.UnimplementedEchoServer
}

func (echoServer) Unary(ctx context.Context, req *echo.EchoRequest) (*echo.EchoResponse, error) {
	if req.Text == "missing" {
		// A trailers-only response: the status travels in the headers.
		return nil, status.Error(codes.NotFound, "no such item: 50% off ü")
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs("x-served-by", "echo"))
	_ = grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t1"))
	return &echo.EchoResponse{Text: "unary:" + req.Text, Payload: req.Payload}, nil
}

func (echoServer) ClientStream(s grpc.ClientStreamingServer[echo.EchoRequest, echo.EchoResponse]) error {
	var parts []string
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return s.SendAndClose(&echo.EchoResponse{Text: strings.Join(parts, "+"), Index: int32(len(parts))})
		}
		if err != nil {
			return err
		}
		parts = append(parts, req.Text)
	}
}

func (echoServer) ServerStream(req *echo.EchoRequest, s grpc.ServerStreamingServer[echo.EchoResponse]) error {
	for i := range req.Repeat {
		if err := s.Send(&echo.EchoResponse{Text: req.Text, Index: i}); err != nil {
			return err
		}
	}
	if req.Text == "abort" {
		return status.Error(codes.Aborted, "stopped after the messages")
	}
	return nil
}

func (echoServer) Bidi(s grpc.BidiStreamingServer[echo.EchoRequest, echo.EchoResponse]) error {
	for i := int32(0); ; i++ {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(&echo.EchoResponse{Text: "bidi:" + req.Text, Index: i}); err != nil {
			return err
		}
	}
}

func startEcho(t testing.TB) string { return startEchoServer(t, echoServer{}) }

func startEchoServer(t testing.TB, impl echo.EchoServer) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	echo.RegisterEchoServer(srv, impl)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return lis.Addr().String()
}

func dialEcho(t testing.TB, addr string) echo.EchoClient {
	cc, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return echo.NewEchoClient(cc)
}

// callResult is everything a client observes of one call.
type callResult struct {
	Responses []*echo.EchoResponse
	Code      codes.Code
	Message   string
	Header    metadata.MD
	Trailer   metadata.MD
}

// script runs the same calls against one address.
func script(t *testing.T, c echo.EchoClient) []callResult {
	ctx := testCtx(t)
	var out []callResult
	finish := func(r callResult, err error) {
		st, _ := status.FromError(err)
		r.Code, r.Message = st.Code(), st.Message()
		delete(r.Header, "date")
		out = append(out, r)
	}

	{ // 1: unary with header and trailer metadata
		var r callResult
		resp, err := c.Unary(ctx, &echo.EchoRequest{Text: "hi", Payload: pattern(3000)},
			grpc.Header(&r.Header), grpc.Trailer(&r.Trailer))
		if resp != nil {
			r.Responses = append(r.Responses, resp)
		}
		finish(r, err)
	}
	{ // 2: client streaming
		var r callResult
		s, err := c.ClientStream(ctx)
		require.NoError(t, err)
		for _, w := range []string{"a", "b", "c"} {
			require.NoError(t, s.Send(&echo.EchoRequest{Text: w}))
		}
		resp, err := s.CloseAndRecv()
		if resp != nil {
			r.Responses = append(r.Responses, resp)
		}
		r.Trailer = s.Trailer()
		finish(r, err)
	}
	{ // 3: server streaming
		var r callResult
		s, err := c.ServerStream(ctx, &echo.EchoRequest{Text: "tick", Repeat: 4})
		require.NoError(t, err)
		for {
			resp, err := s.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				finish(r, err)
				break
			}
			r.Responses = append(r.Responses, resp)
		}
	}
	{ // 4: bidi, strictly alternating so the wire order is known
		var r callResult
		s, err := c.Bidi(ctx)
		require.NoError(t, err)
		for _, w := range []string{"x", "y", "z"} {
			require.NoError(t, s.Send(&echo.EchoRequest{Text: w}))
			resp, err := s.Recv()
			require.NoError(t, err)
			r.Responses = append(r.Responses, resp)
		}
		require.NoError(t, s.CloseSend())
		_, err = s.Recv()
		require.ErrorIs(t, err, io.EOF)
		finish(r, nil)
	}
	{ // 5: trailers-only error
		var r callResult
		_, err := c.Unary(ctx, &echo.EchoRequest{Text: "missing"})
		finish(r, err)
	}
	{ // 6: error after streamed messages
		var r callResult
		s, err := c.ServerStream(ctx, &echo.EchoRequest{Text: "abort", Repeat: 2})
		require.NoError(t, err)
		for {
			resp, err := s.Recv()
			if err != nil {
				finish(r, err)
				break
			}
			r.Responses = append(r.Responses, resp)
		}
	}
	return out
}

func assertSameResults(t *testing.T, direct, proxied []callResult) {
	require.Len(t, proxied, len(direct))
	for i := range direct {
		d, p := direct[i], proxied[i]
		require.Len(t, p.Responses, len(d.Responses), "call %d", i+1)
		for j := range d.Responses {
			assert.True(t, proto.Equal(d.Responses[j], p.Responses[j]), "call %d response %d", i+1, j)
		}
		assert.Equal(t, d.Code, p.Code, "call %d", i+1)
		assert.Equal(t, d.Message, p.Message, "call %d", i+1)
		assert.Equal(t, d.Header, p.Header, "call %d header metadata", i+1)
		assert.Equal(t, d.Trailer, p.Trailer, "call %d trailer metadata", i+1)
	}
}

func TestGRPCAllCallKinds(t *testing.T) {
	addr := startEcho(t)
	run := proxytest.StartRun(t, "http://"+addr)
	direct := script(t, dialEcho(t, addr))
	proxied := script(t, dialEcho(t, strings.TrimPrefix(run.URL, "http://")))
	assertSameResults(t, direct, proxied)
	require.Equal(t, codes.NotFound, proxied[4].Code, "the script really exercised an error")

	exs := run.Stop()
	require.Len(t, exs, 6)
	for _, ex := range exs {
		assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, ex.Protocol)
		require.NotNil(t, ex.Grpc)
		assert.Empty(t, ex.Request.Body.GetData(), "gRPC bytes live in the messages only")
		assert.Empty(t, ex.Response.Body.GetData())
		assert.NotZero(t, ex.StreamId)
		assertTimings(t, ex)
		var prev int64
		var reqBytes, respBytes int64
		for i, m := range ex.Grpc.Messages {
			assert.GreaterOrEqual(t, m.AtNs, prev, "message %d time", i)
			assert.GreaterOrEqual(t, m.AtNs, ex.StartNs)
			assert.LessOrEqual(t, m.AtNs, ex.EndNs)
			prev = m.AtNs
			assert.False(t, m.Truncated)
			assert.EqualValues(t, len(m.Data), m.Size)
			if m.Direction == rprpb.Direction_DIRECTION_REQUEST {
				reqBytes += 5 + m.Size
			} else {
				respBytes += 5 + m.Size
			}
		}
		assert.Equal(t, reqBytes, ex.Request.Body.GetSize(), "the request body size counts every frame")
		assert.Equal(t, respBytes, ex.Response.Body.GetSize())
	}

	unary := exs[0].Grpc
	assert.Equal(t, "/reprise.test.echo.v1.Echo/Unary", unary.FullMethod)
	assert.Equal(t, rprpb.CallKind_CALL_KIND_UNARY, unary.Kind)
	assert.Zero(t, unary.StatusCode)
	require.Len(t, unary.Messages, 2)
	var req echo.EchoRequest
	require.NoError(t, proto.Unmarshal(unary.Messages[0].Data, &req))
	assert.Equal(t, "hi", req.Text)
	assert.Equal(t, pattern(3000), req.Payload)
	var resp echo.EchoResponse
	require.NoError(t, proto.Unmarshal(unary.Messages[1].Data, &resp))
	assert.Equal(t, "unary:hi", resp.Text)
	assert.Equal(t, []string{"0"}, header(exs[0].Response.Trailers, "Grpc-Status"))
	assert.Equal(t, []string{"t1"}, header(exs[0].Response.Trailers, "X-Trailer"))
	assert.Equal(t, []string{"echo"}, header(exs[0].Response.Headers, "X-Served-By"))
	assert.Equal(t, []string{"trailers"}, header(exs[0].Request.Headers, "Te"))

	cs := exs[1].Grpc
	assert.Equal(t, rprpb.CallKind_CALL_KIND_CLIENT_STREAMING, cs.Kind)
	assert.Equal(t, dirs("req req req resp"), directions(cs))

	ss := exs[2].Grpc
	assert.Equal(t, rprpb.CallKind_CALL_KIND_SERVER_STREAMING, ss.Kind)
	assert.Equal(t, dirs("req resp resp resp resp"), directions(ss))

	bidi := exs[3].Grpc
	assert.Equal(t, rprpb.CallKind_CALL_KIND_BIDI_STREAMING, bidi.Kind)
	assert.Equal(t, dirs("req resp req resp req resp"), directions(bidi), "bidi messages interleaved in wire order")
	for i, m := range bidi.Messages {
		if m.Direction == rprpb.Direction_DIRECTION_RESPONSE {
			var r echo.EchoResponse
			require.NoError(t, proto.Unmarshal(m.Data, &r))
			assert.Equal(t, fmt.Sprintf("bidi:%s", []string{"x", "y", "z"}[i/2]), r.Text)
		}
	}

	missing := exs[4].Grpc
	assert.EqualValues(t, codes.NotFound, missing.StatusCode)
	assert.Equal(t, "no such item: 50% off ü", missing.StatusMessage, "grpc-message is percent-decoded")
	assert.Empty(t, exs[4].Response.Trailers, "trailers-only: the status came in the headers")
	assert.Equal(t, dirs("req"), directions(missing))

	aborted := exs[5].Grpc
	assert.EqualValues(t, codes.Aborted, aborted.StatusCode)
	assert.Equal(t, "stopped after the messages", aborted.StatusMessage)
	assert.Equal(t, rprpb.CallKind_CALL_KIND_SERVER_STREAMING, aborted.Kind)
}

func TestGRPCMessageCaps(t *testing.T) {
	addr := startEcho(t)
	run := proxytest.StartRun(t, "http://"+addr, proxytest.BodyCap(100))
	c := dialEcho(t, strings.TrimPrefix(run.URL, "http://"))
	resp, err := c.Unary(testCtx(t), &echo.EchoRequest{Text: "big", Payload: pattern(5000)})
	require.NoError(t, err)
	assert.Equal(t, pattern(5000), resp.Payload, "the client gets everything")
	exs := run.Stop()
	require.Len(t, exs, 1)
	msgs := exs[0].Grpc.Messages
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		assert.True(t, m.Truncated)
		assert.Len(t, m.Data, 100)
		assert.Greater(t, m.Size, int64(5000))
	}
	assert.True(t, exs[0].Request.Body.Truncated)
	assert.True(t, exs[0].Response.Body.Truncated)
}

func dirs(s string) []rprpb.Direction {
	var out []rprpb.Direction
	for _, w := range strings.Fields(s) {
		if w == "req" {
			out = append(out, rprpb.Direction_DIRECTION_REQUEST)
		} else {
			out = append(out, rprpb.Direction_DIRECTION_RESPONSE)
		}
	}
	return out
}

func directions(g *rprpb.Grpc) []rprpb.Direction {
	var out []rprpb.Direction
	for _, m := range g.Messages {
		out = append(out, m.Direction)
	}
	return out
}

func TestGRPCOverTLSToTheProxy(t *testing.T) {
	addr := startEcho(t)
	cert, key, pool := selfSigned(t)
	run := proxytest.StartRun(t, "http://"+addr, proxytest.TLS(cert, key))
	cc, err := grpc.NewClient("passthrough:///"+strings.TrimPrefix(run.URL, "https://"),
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})))
	require.NoError(t, err)
	defer cc.Close()
	c := echo.NewEchoClient(cc)
	direct := script(t, dialEcho(t, addr))
	proxied := script(t, c)
	assertSameResults(t, direct, proxied)
	exs := run.Stop()
	require.Len(t, exs, len(direct))
	for _, ex := range exs {
		assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, ex.Protocol)
		assert.Equal(t, "https", ex.Request.Scheme)
	}
	assert.Equal(t, rprpb.CallKind_CALL_KIND_BIDI_STREAMING, exs[3].Grpc.Kind)
}

func TestGRPCUpstreamDown(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := lis.Addr().String()
	lis.Close()
	run := proxytest.StartRun(t, "http://"+dead)
	c := dialEcho(t, strings.TrimPrefix(run.URL, "http://"))
	_, err = c.Unary(testCtx(t), &echo.EchoRequest{Text: "hello"})
	assert.Equal(t, codes.Unavailable, status.Code(err))
	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.EqualValues(t, codes.Unavailable, exs[0].Grpc.StatusCode, "what the client saw")
	assert.Equal(t, int32(502), exs[0].Response.Status)
	assert.Contains(t, exs[0].Error, "upstream: ")
}

// stallingEcho holds client streams open without answering until the
// client goes away, and says when one has begun.
type stallingEcho struct {
	echoServer
	began chan struct{}
}

func (e stallingEcho) ClientStream(s grpc.ClientStreamingServer[echo.EchoRequest, echo.EchoResponse]) error {
	close(e.began)
	<-s.Context().Done()
	return s.Context().Err()
}

// TestGRPCClientGoneIsCanceled: a call the client cancels before any
// answer is recorded as cancelled, not as an unavailable upstream.
func TestGRPCClientGoneIsCanceled(t *testing.T) {
	impl := stallingEcho{began: make(chan struct{})}
	run := proxytest.StartRun(t, "http://"+startEchoServer(t, impl))
	c := dialEcho(t, strings.TrimPrefix(run.URL, "http://"))
	ctx, cancel := context.WithCancel(testCtx(t))
	stream, err := c.ClientStream(ctx)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&echo.EchoRequest{Text: "hello"}))
	select {
	case <-impl.began:
	case <-testCtx(t).Done():
		t.Fatal("the call never reached the upstream")
	}
	cancel()
	_, err = stream.CloseAndRecv()
	assert.Equal(t, codes.Canceled, status.Code(err))

	exs := run.Stop()
	require.Len(t, exs, 1)
	assert.Equal(t, int32(proxy.StatusClientClosedRequest), exs[0].Response.Status)
	assert.EqualValues(t, codes.Canceled, exs[0].Grpc.StatusCode)
	assert.Contains(t, exs[0].Error, "client: ")
}
