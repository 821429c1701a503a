package marketplace

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/reprise-dev/reprise/compose/internal/platformtest"
	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type market struct {
	client platform.MarketplaceClient
	server *Server
	svc    *svc.Service
	seq    *platformtest.Sequencer
}

// startMarket runs the marketplace as the stack does, on loopback ports, in
// front of a fake sequencer.
func startMarket(t *testing.T, cfg Config) *market {
	t.Helper()
	seq, seqAddr := platformtest.StartSequencer(t)
	return startMarketWith(t, cfg, seq, seqAddr)
}

func startMarketWith(t *testing.T, cfg Config, seq *platformtest.Sequencer, seqAddr string) *market {
	t.Helper()
	s, m, err := NewService(svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "error"}, cfg, seqAddr, io.Discard)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	cc, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		cc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
	return &market{client: platform.NewMarketplaceClient(cc), server: m, svc: s, seq: seq}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
