package indexer

import (
	"context"
	"errors"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// History limits: the default when the request gives none, and the cap.
const (
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 1000
)

// Register adds the Indexer service to r.
func (ix *Indexer) Register(r grpc.ServiceRegistrar) { pb.RegisterIndexerServer(r, ix) }

// Inventory implements pb.IndexerServer.
func (ix *Indexer) Inventory(ctx context.Context, req *pb.InventoryRequest) (*pb.InventoryResponse, error) {
	if req.GetPlayer() == "" {
		return nil, status.Error(codes.InvalidArgument, "field player is empty")
	}
	// Read before the query: the answer reflects at least this block.
	asOf := ix.stored.Load()
	items, err := timed(ix.m, "inventory", func() ([]*pb.Item, error) { return ix.store.Inventory(ctx, req.GetPlayer()) })
	if err != nil {
		return nil, storeStatus(err)
	}
	return &pb.InventoryResponse{Player: req.GetPlayer(), Items: items, AsOfBlock: asOf}, nil
}

// History implements pb.IndexerServer.
func (ix *Indexer) History(ctx context.Context, req *pb.HistoryRequest) (*pb.HistoryResponse, error) {
	if req.GetPlayer() == "" {
		return nil, status.Error(codes.InvalidArgument, "field player is empty")
	}
	limit := int(req.GetLimit())
	switch {
	case limit < 0:
		return nil, status.Errorf(codes.InvalidArgument, "field limit is %d, want 0 (default %d) to %d", limit, DefaultHistoryLimit, MaxHistoryLimit)
	case limit == 0:
		limit = DefaultHistoryLimit
	}
	limit = min(limit, MaxHistoryLimit)
	asOf := ix.stored.Load()
	txs, err := timed(ix.m, "history", func() ([]*pb.Tx, error) { return ix.store.History(ctx, req.GetPlayer(), limit) })
	if err != nil {
		return nil, storeStatus(err)
	}
	return &pb.HistoryResponse{Player: req.GetPlayer(), Txs: txs, AsOfBlock: asOf}, nil
}

func storeStatus(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unavailable, err.Error())
}

var _ pb.IndexerServer = (*Indexer)(nil)
