package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"

	"github.com/reprise-dev/reprise/compose/internal/marketplace"
	"github.com/reprise-dev/reprise/compose/internal/missions"
	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeChain stands in for the sequencer and the indexer on one real gRPC
// server: submitted txs are "indexed" at once, so that inventory and history
// follow buys without block timing.
type fakeChain struct {
	platform.UnimplementedSequencerServer
	platform.UnimplementedIndexerServer
	mu  sync.Mutex
	txs []*platform.Tx
	// slow makes the indexer wait for the caller's deadline.
	slow atomic.Bool
}

func (f *fakeChain) SubmitTx(_ context.Context, tx *platform.Tx) (*platform.SubmitTxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx.Hash = fmt.Sprintf("0x%064x", len(f.txs)+1)
	f.txs = append(f.txs, tx)
	return &platform.SubmitTxResponse{Hash: tx.Hash}, nil
}

func (f *fakeChain) Inventory(ctx context.Context, req *platform.InventoryRequest) (*platform.InventoryResponse, error) {
	if f.slow.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &platform.InventoryResponse{Player: req.GetPlayer(), AsOfBlock: uint64(len(f.txs))}
	for _, tx := range f.txs {
		if tx.GetKind() == "buy" && tx.GetTo() == req.GetPlayer() {
			resp.Items = append(resp.Items, &platform.Item{Id: tx.GetItemId(), Price: tx.GetAmount(), Owner: tx.GetTo()})
		}
	}
	return resp, nil
}

func (f *fakeChain) History(ctx context.Context, req *platform.HistoryRequest) (*platform.HistoryResponse, error) {
	if f.slow.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &platform.HistoryResponse{Player: req.GetPlayer(), AsOfBlock: uint64(len(f.txs))}
	for i := len(f.txs) - 1; i >= 0 && len(resp.Txs) < int(req.GetLimit()); i-- {
		if f.txs[i].GetPlayer() == req.GetPlayer() {
			resp.Txs = append(resp.Txs, f.txs[i])
		}
	}
	return resp, nil
}

func startChain(t *testing.T) (*fakeChain, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeChain{}
	gs := grpc.NewServer()
	platform.RegisterSequencerServer(gs, f)
	platform.RegisterIndexerServer(gs, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(ln) }()
	t.Cleanup(func() { gs.Stop(); <-done })
	return f, ln.Addr().String()
}

func loopback() svc.Options {
	return svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "error"}
}

func startSvc(t *testing.T, s *svc.Service) {
	t.Helper()
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
}

type stack struct {
	chain *fakeChain
	base  string
	logs  *syncBuf
}

type stackConfig struct {
	market  marketplace.Config
	gateway Config
}

func defaultStack() stackConfig {
	return stackConfig{market: marketplace.DefaultConfig(), gateway: DefaultConfig()}
}

// startStack runs the real marketplace and missions services and the
// gateway in front of them, all on loopback, with the fake chain as
// sequencer and indexer.
func startStack(t *testing.T, sc stackConfig) *stack {
	t.Helper()
	chain, chainAddr := startChain(t)
	ms, _, err := marketplace.NewService(loopback(), sc.market, chainAddr, io.Discard)
	require.NoError(t, err)
	startSvc(t, ms)
	mi, _, err := missions.NewService(loopback(), missions.DefaultConfig(), chainAddr, io.Discard)
	require.NoError(t, err)
	startSvc(t, mi)

	cfg := sc.gateway
	cfg.Marketplace, cfg.Missions, cfg.Indexer = ms.GRPCAddr(), mi.GRPCAddr(), chainAddr
	logs := &syncBuf{}
	o := loopback()
	o.LogLevel = "info"
	gw, err := NewService(o, cfg, logs)
	require.NoError(t, err)
	startSvc(t, gw)
	st := &stack{chain: chain, base: "http://" + gw.HTTPAddr(), logs: logs}
	code, body := st.do(t, "GET", "/readyz", "", nil)
	require.Equal(t, 200, code, body)
	return st
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// do sends one request with an optional bearer token and returns the status
// and body.
func (st *stack) do(t *testing.T, method, path, token string, body io.Reader) (int, string) {
	t.Helper()
	code, b, _ := st.doFull(t, method, path, token, body)
	return code, b
}

func (st *stack) doFull(t *testing.T, method, path, token string, body io.Reader) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, st.base+path, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func (st *stack) login(t *testing.T, user string) string {
	t.Helper()
	code, body := st.do(t, "POST", "/v1/login", "", strings.NewReader(fmt.Sprintf(`{"user":%q,"password":"pw"}`, user)))
	require.Equal(t, 200, code, body)
	var resp loginResponse
	require.NoError(t, json.Unmarshal([]byte(body), &resp))
	require.Equal(t, user, resp.PlayerID)
	return resp.Token
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(body), &v), body)
	return v
}
