// Package platformtest gives tests real gRPC stand-ins for platform
// services on loopback, for packages whose subject is another service.
package platformtest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// Sequencer is a real gRPC Sequencer that only records what it is sent; the
// real one is compose/internal/sequencer's subject.
type Sequencer struct {
	platform.UnimplementedSequencerServer
	mu  sync.Mutex
	txs []*platform.Tx
}

// SubmitTx records tx and answers with a hash derived from its position.
func (f *Sequencer) SubmitTx(_ context.Context, tx *platform.Tx) (*platform.SubmitTxResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.txs = append(f.txs, tx)
	return &platform.SubmitTxResponse{Hash: fmt.Sprintf("0x%064x", len(f.txs)), MempoolDepth: uint64(len(f.txs))}, nil
}

// Received returns the transactions submitted so far.
func (f *Sequencer) Received() []*platform.Tx {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*platform.Tx(nil), f.txs...)
}

// StartSequencer serves a Sequencer on a free loopback port until the test
// ends and returns it with its address.
func StartSequencer(t testing.TB) (*Sequencer, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &Sequencer{}
	gs := grpc.NewServer()
	platform.RegisterSequencerServer(gs, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = gs.Serve(ln) }()
	t.Cleanup(func() { gs.Stop(); <-done })
	return f, ln.Addr().String()
}
