package missions

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/internal/platformtest"
	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func startMissions(t *testing.T, cfg Config, seqAddr string) (platform.MissionsClient, *svc.Service) {
	t.Helper()
	s, _, err := NewService(svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "error"}, cfg, seqAddr, io.Discard)
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
	return platform.NewMissionsClient(cc), s
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

func TestAdvanceMovesOneStepAndSubmitsTx(t *testing.T) {
	seq, addr := platformtest.StartSequencer(t)
	c, s := startMissions(t, DefaultConfig(), addr)
	ctx := ctxT(t)

	p, err := c.GetProgress(ctx, &platform.GetProgressRequest{Player: "ann", Mission: "1"})
	require.NoError(t, err)
	assert.Zero(t, p.GetStep())
	for want := int32(1); want <= 3; want++ {
		p, err = c.Advance(ctx, &platform.AdvanceRequest{Player: "ann", Mission: "1"})
		require.NoError(t, err)
		assert.Equal(t, want, p.GetStep())
	}
	other, err := c.GetProgress(ctx, &platform.GetProgressRequest{Player: "bob", Mission: "1"})
	require.NoError(t, err)
	assert.Zero(t, other.GetStep(), "progress is per player")
	p, err = c.GetProgress(ctx, &platform.GetProgressRequest{Player: "ann", Mission: "1"})
	require.NoError(t, err)
	assert.Equal(t, int32(3), p.GetStep())

	txs := seq.Received()
	require.Len(t, txs, 3)
	assert.Equal(t, "mission", txs[2].GetKind())
	assert.Equal(t, "ann", txs[2].GetPlayer())
	assert.Equal(t, "1", txs[2].GetMission())
	assert.Equal(t, int32(3), txs[2].GetStep())

	_, err = c.Advance(ctx, &platform.AdvanceRequest{Player: "ann"})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "mission:")

	code, body := httpGet(t, "http://"+s.HTTPAddr()+"/metrics")
	require.Equal(t, 200, code)
	assert.Contains(t, body, `missions_advances_total{outcome="ok"} 3`)
	assert.Contains(t, body, `missions_advances_total{outcome="invalid"} 1`)
	code, _ = httpGet(t, "http://"+s.HTTPAddr()+"/readyz")
	assert.Equal(t, 200, code)
}

func TestAdvanceIsBestEffortWithSequencerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, s := startMissions(t, DefaultConfig(), dead)

	p, err := c.Advance(ctxT(t), &platform.AdvanceRequest{Player: "ann", Mission: "m"})
	require.NoError(t, err, "progress does not wait for the chain")
	assert.Equal(t, int32(1), p.GetStep())
	_, body := httpGet(t, "http://"+s.HTTPAddr()+"/metrics")
	assert.Contains(t, body, "missions_tx_submit_failures_total 1")
	code, _ := httpGet(t, "http://"+s.HTTPAddr()+"/readyz")
	assert.Equal(t, 503, code)
}

func TestConfigValidate(t *testing.T) {
	assert.ErrorIs(t, Config{}.Validate(), ErrConfig)
	assert.NoError(t, DefaultConfig().Validate())
	_, _, err := NewService(svc.Options{HTTPAddr: "127.0.0.1:0", LogLevel: "info"}, DefaultConfig(), "", io.Discard)
	assert.ErrorContains(t, err, "--grpc")
}

// TestConcurrentAdvances releases N Advances of one fresh mission together,
// attempt after attempt. Correct, the step is N every time; with
// FAULT_LOST_UPDATE a step is lost within the bounded attempts.
func TestConcurrentAdvances(t *testing.T) {
	const attempts, n = 30, 16
	for _, fault := range []bool{false, true} {
		t.Run(fmt.Sprintf("fault=%v", fault), func(t *testing.T) {
			_, addr := platformtest.StartSequencer(t)
			cfg := DefaultConfig()
			cfg.FaultLostUpdate = fault
			c, _ := startMissions(t, cfg, addr)
			// Warm the connection so that the first burst is not serialised
			// behind the handshake.
			_, err := c.GetProgress(ctxT(t), &platform.GetProgressRequest{Player: "warm", Mission: "up"})
			require.NoError(t, err)

			lost, tried := 0, 0
			for a := range attempts {
				tried++
				mission := fmt.Sprintf("m%d", a)
				start := make(chan struct{})
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = c.Advance(ctxT(t), &platform.AdvanceRequest{Player: "ann", Mission: mission})
					}()
				}
				close(start)
				wg.Wait()
				for _, err := range errs {
					require.NoError(t, err)
				}
				p, err := c.GetProgress(ctxT(t), &platform.GetProgressRequest{Player: "ann", Mission: mission})
				require.NoError(t, err)
				require.LessOrEqual(t, p.GetStep(), int32(n), "steps are never invented")
				if p.GetStep() < n {
					lost++
					if fault {
						break
					}
				}
			}
			t.Logf("fault=%v: steps lost in %d of %d bursts", fault, lost, tried)
			if fault {
				assert.Positive(t, lost, "a lost update must show within %d bursts", attempts)
			} else {
				assert.Zero(t, lost, "every Advance counts")
			}
		})
	}
}
