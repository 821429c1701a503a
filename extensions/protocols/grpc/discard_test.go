package grpc

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	ggrpc "google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/testproto/echo"
)

type streamServer struct{ echo.UnimplementedEchoServer }

func (streamServer) ServerStream(r *echo.EchoRequest, st ggrpc.ServerStreamingServer[echo.EchoResponse]) error {
	for i := range int(r.GetRepeat()) {
		if err := st.Send(&echo.EchoResponse{Text: fmt.Sprintf("%s-%d", r.GetText(), i), Index: int32(i)}); err != nil {
			return err
		}
	}
	return nil
}

// TestDiscardMessageData: with DiscardMessageData the driver hands every
// server message, bytes included, to OnMessage and keeps only its
// metadata; without it the bytes stay in the Reply.
func TestDiscardMessageData(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := ggrpc.NewServer()
	echo.RegisterEchoServer(srv, streamServer{})
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Stop(); <-done })

	req, err := proto.Marshal(&echo.EchoRequest{Text: "m", Repeat: 3})
	require.NoError(t, err)
	for _, discard := range []bool{true, false} {
		t.Run(fmt.Sprint("discard=", discard), func(t *testing.T) {
			c, err := Codec{}.Dial(protocol.Target{URL: &url.URL{Scheme: "http", Host: l.Addr().String()},
				Protocol: rprpb.Protocol_PROTOCOL_GRPC})
			require.NoError(t, err)
			defer c.Close()
			t0 := time.Now()
			var seen []string
			call := &protocol.Call{Protocol: rprpb.Protocol_PROTOCOL_GRPC, Method: "POST",
				Path: "/reprise.test.echo.v1.Echo/ServerStream", Kind: rprpb.CallKind_CALL_KIND_SERVER_STREAMING,
				Messages: []protocol.OutMessage{{Data: req}}, Clock: func() time.Duration { return time.Since(t0) },
				DiscardMessageData: discard,
				OnMessage: func(_ int, m *rprpb.Message) {
					var r echo.EchoResponse
					require.NoError(t, proto.Unmarshal(m.GetData(), &r))
					seen = append(seen, r.GetText())
				}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rep, err := c.Do(ctx, call)
			require.NoError(t, err)
			assert.Equal(t, []string{"m-0", "m-1", "m-2"}, seen, "OnMessage saw every message's bytes")
			require.Len(t, rep.Messages, 3)
			var size int64
			for _, m := range rep.Messages {
				assert.Positive(t, m.GetSize())
				assert.Equal(t, discard, m.GetData() == nil, "data kept only without discard")
				size += m.GetSize()
			}
			assert.Equal(t, rep.Size, size)
		})
	}
}
