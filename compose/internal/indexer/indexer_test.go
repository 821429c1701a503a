package indexer

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reprise-dev/reprise/compose/internal/indexer/store"
	"github.com/reprise-dev/reprise/compose/internal/sequencer"
	"github.com/reprise-dev/reprise/compose/internal/svc"
	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func loopback() svc.Options {
	return svc.Options{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", LogLevel: "error"}
}

func shutdown(t *testing.T, s *svc.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
}

// seqService is a sequencer service in front of a chain that outlives it,
// so a test can stop and restart the service.
type seqService struct {
	svc *svc.Service
	srv *sequencer.Server
}

func startSeqService(t *testing.T, chain *sequencer.Chain, o svc.Options) *seqService {
	t.Helper()
	s, err := svc.New("sequencer", o, io.Discard)
	require.NoError(t, err)
	srv := sequencer.NewServer(chain)
	srv.Register(s.GRPC)
	require.NoError(t, s.Start())
	return &seqService{svc: s, srv: srv}
}

func (s *seqService) stop(t *testing.T) {
	s.srv.Close()
	shutdown(t, s.svc)
}

// seqAddress is where the sequencer service listens now. A restarted
// service listens on a fresh port rather than its old one: while it is
// down, any socket on the machine may take the old port (even the
// indexer's own redial, connecting to itself), and the restart would fail
// with "address already in use".
type seqAddress struct{ addr atomic.Value }

func newSeqAddress(addr string) *seqAddress {
	a := &seqAddress{}
	a.set(addr)
	return a
}

func (a *seqAddress) set(addr string) { a.addr.Store(addr) }

// dial connects to the sequencer wherever it listens now; a client
// reconnecting after a restart finds the new port.
func (a *seqAddress) dial(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", a.addr.Load().(string))
		}),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///sequencer", opts...)
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return cc
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return cc
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// blockOf follows the chain until every hash has been seen and returns the
// newest block holding one of them.
func blockOf(t *testing.T, ctx context.Context, chain *sequencer.Chain, from uint64, hashes ...string) uint64 {
	t.Helper()
	sub, err := chain.Subscribe(from)
	require.NoError(t, err)
	defer sub.Close()
	want := map[string]bool{}
	for _, h := range hashes {
		want[h] = true
	}
	var last uint64
	for len(want) > 0 {
		b, err := sub.Next(ctx)
		require.NoError(t, err)
		for _, tx := range b.Txs {
			if want[tx.Hash] {
				delete(want, tx.Hash)
				last = b.Number
			}
		}
	}
	return last
}

func TestIndexerFollowsSequencerAndResumesAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	chain, err := sequencer.New(sequencer.BlockInterval(5 * time.Millisecond))
	require.NoError(t, err)
	chainCtx, stopChain := context.WithCancel(ctx)
	chainDone := make(chan error, 1)
	go func() { chainDone <- chain.Run(chainCtx) }()
	defer func() { stopChain(); require.NoError(t, <-chainDone) }()
	seq := startSeqService(t, chain, loopback())
	seqAddr := newSeqAddress(seq.svc.GRPCAddr())
	seqClient := pb.NewSequencerClient(seqAddr.dial(t))

	dbPath := filepath.Join(t.TempDir(), "indexer.db")
	db, err := store.Open(ctx, "sqlite://"+dbPath)
	require.NoError(t, err)
	defer db.Close()
	isvc, err := svc.New("indexer", loopback(), io.Discard)
	require.NoError(t, err)
	ix := New(db, pb.NewSequencerClient(seqAddr.dial(t)), Registerer(isvc.Registry), Backoff(10*time.Millisecond, 200*time.Millisecond))
	ix.Register(isvc.GRPC)
	isvc.ReadyWhen(ix.Ready)
	require.NoError(t, isvc.Start())
	defer shutdown(t, isvc)
	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() { followed <- ix.Follow(followCtx) }()
	defer func() { stopFollow(); require.NoError(t, <-followed) }()
	idx := pb.NewIndexerClient(dial(t, isvc.GRPCAddr()))

	submit := func(tx *pb.Tx) string {
		resp, err := seqClient.SubmitTx(ctx, tx)
		require.NoError(t, err)
		return resp.Hash
	}
	buy := func(buyer string, item int64, from string) *pb.Tx {
		return &pb.Tx{Kind: "buy", Player: buyer, ItemId: item, Amount: 10 * item, From: from, To: buyer}
	}
	h1 := submit(buy("alice", 1, ""))
	h2 := submit(buy("alice", 2, ""))
	h3 := submit(buy("bob", 3, ""))
	n := blockOf(t, ctx, chain, 1, h1, h2, h3)
	h4 := submit(buy("bob", 1, "alice"))
	n = blockOf(t, ctx, chain, n, h4)
	require.NoError(t, ix.WaitForBlock(ctx, n))

	inv, err := idx.Inventory(ctx, &pb.InventoryRequest{Player: "bob"})
	require.NoError(t, err)
	require.Len(t, inv.Items, 2)
	assert.Equal(t, []int64{1, 3}, []int64{inv.Items[0].Id, inv.Items[1].Id})
	assert.GreaterOrEqual(t, inv.AsOfBlock, n)
	inv, err = idx.Inventory(ctx, &pb.InventoryRequest{Player: "alice"})
	require.NoError(t, err)
	require.Len(t, inv.Items, 1)
	assert.Equal(t, int64(2), inv.Items[0].Id)
	hist, err := idx.History(ctx, &pb.HistoryRequest{Player: "alice"})
	require.NoError(t, err)
	require.Len(t, hist.Txs, 2)
	assert.Equal(t, h2, hist.Txs[0].Hash, "newest first")
	_, err = idx.History(ctx, &pb.HistoryRequest{})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))

	code, _ := httpGet(t, "http://"+isvc.HTTPAddr()+"/readyz")
	assert.Equal(t, http.StatusOK, code, "ready: database reachable and stream connected")

	// The sequencer service goes away while the chain goes on producing;
	// then it comes back (on a fresh port; see seqAddress).
	seq.stop(t)
	var offline []string
	for i := range 20 {
		h, _, err := chain.Submit(ctx, buy("carol", int64(100+i), ""))
		require.NoError(t, err)
		offline = append(offline, h)
	}
	blockOf(t, ctx, chain, n, offline...)
	seq = startSeqService(t, chain, loopback())
	seqAddr.set(seq.svc.GRPCAddr())
	defer seq.stop(t)
	h5 := submit(buy("dave", 500, ""))
	last := blockOf(t, ctx, chain, n, h5)
	require.NoError(t, ix.WaitForBlock(ctx, last))

	inv, err = idx.Inventory(ctx, &pb.InventoryRequest{Player: "carol"})
	require.NoError(t, err)
	assert.Len(t, inv.Items, 20, "blocks sealed while the stream was down are indexed")
	inv, err = idx.Inventory(ctx, &pb.InventoryRequest{Player: "dave"})
	require.NoError(t, err)
	assert.Len(t, inv.Items, 1)

	// No gaps, no duplicates: read the database itself.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	require.NoError(t, err)
	defer raw.Close()
	var count, lo, hi int64
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT count(*), min(number), max(number) FROM blocks`).Scan(&count, &lo, &hi))
	assert.Equal(t, int64(1), lo)
	assert.Equal(t, hi, count, "blocks 1..head, each once")
	assert.GreaterOrEqual(t, uint64(hi), last)
	var txs, distinct int64
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT hash) FROM txs`).Scan(&txs, &distinct))
	assert.Equal(t, int64(4+20+1), txs)
	assert.Equal(t, txs, distinct)

	_, metrics := httpGet(t, "http://"+isvc.HTTPAddr()+"/metrics")
	for _, want := range []string{
		`indexer_query_duration_seconds_count{query="inventory"}`,
		`indexer_query_duration_seconds_count{query="history"}`,
		`indexer_query_duration_seconds_count{query="apply_block"}`,
		`indexer_rows_written_total{table="txs"} 25`,
		`indexer_rows_written_total{table="items"} 25`,
		"indexer_lag_blocks",
		"indexer_lag_seconds",
		"indexer_stream_connected 1",
	} {
		assert.Contains(t, metrics, want)
	}
	assert.NotContains(t, metrics, "indexer_stream_reconnects_total 0", "the restart was noticed")
}

func TestReadyFailsWithoutStream(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "i.db"))
	require.NoError(t, err)
	defer db.Close()
	ix := New(db, nil)
	assert.ErrorIs(t, ix.Ready(context.Background()), ErrNotConnected)
}

func TestHistoryLimitValidation(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "i.db"))
	require.NoError(t, err)
	defer db.Close()
	ix := New(db, nil)
	_, err = ix.History(context.Background(), &pb.HistoryRequest{Player: "p", Limit: -1})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Contains(t, err.Error(), "limit")
	resp, err := ix.History(context.Background(), &pb.HistoryRequest{Player: "p", Limit: 5000})
	require.NoError(t, err)
	assert.Empty(t, resp.Txs)
}

func TestParseFlags(t *testing.T) {
	t.Setenv("INDEXER_DB", "")
	cfg, err := ParseFlags([]string{"--db", "sqlite:///tmp/x.db", "--sequencer", "127.0.0.1:1"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:1", cfg.Sequencer)
	_, err = ParseFlags([]string{"--db", "mysql://x"}, io.Discard)
	require.ErrorIs(t, err, store.ErrBadDSN)
	assert.Contains(t, err.Error(), "flag --db")
	t.Setenv("FAULT_SLOW_QUERY", "1")
	cfg, err = ParseFlags(nil, io.Discard)
	require.Error(t, err, "INDEXER_DB set to empty is not a URL")
	t.Setenv("INDEXER_DB", "sqlite:///tmp/y.db")
	cfg, err = ParseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.True(t, cfg.SlowQuery)
}
