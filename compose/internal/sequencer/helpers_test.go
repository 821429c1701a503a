package sequencer

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/svc"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	chain  *Chain
	svc    *svc.Service
	client pb.SequencerClient
}

// startSequencer runs a real sequencer on loopback until the test ends.
func startSequencer(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	s, err := svc.New("sequencer", svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "error"}, io.Discard)
	require.NoError(t, err)
	chain, err := New(append([]Option{Registerer(s.Registry)}, opts...)...)
	require.NoError(t, err)
	srv := NewServer(chain)
	srv.Register(s.GRPC)
	require.NoError(t, s.Start())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- chain.Run(ctx) }()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		require.NoError(t, <-done)
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		require.NoError(t, s.Shutdown(sctx))
	})
	return &fixture{chain: chain, svc: s, client: dialSequencer(t, s.GRPCAddr())}
}

func dialSequencer(t *testing.T, addr string, opts ...grpc.DialOption) pb.SequencerClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return pb.NewSequencerClient(cc)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func buy(player string, item int64) *pb.Tx {
	return &pb.Tx{Kind: "buy", Player: player, ItemId: item, Amount: 10, To: player}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return string(b)
}
