package sequencer

import (
	"context"
	"errors"
	"strconv"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// HeadHeader is the StreamBlocks response header that carries the chain
// head at subscription time, so a follower knows its lag while it replays.
const HeadHeader = "x-chain-head"

// HeadHashHeader is the newest block's hash, sent as a trailer with the
// FAILED_PRECONDITION that a from_block beyond the head gets: with
// HeadHeader it tells a follower which chain the sequencer is on now.
const HeadHashHeader = "x-chain-head-hash"

// Server is the gRPC face of a Chain. A Chain outlives its Servers: a
// service restart on the same chain keeps every block.
type Server struct {
	pb.UnimplementedSequencerServer
	chain *Chain
	// stopping ends the open streams, which GracefulStop would otherwise
	// wait for forever.
	stopping context.Context
	stop     context.CancelFunc
}

// NewServer serves chain.
func NewServer(chain *Chain) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{chain: chain, stopping: ctx, stop: cancel}
}

// Register adds the Sequencer service to r.
func (s *Server) Register(r grpc.ServiceRegistrar) { pb.RegisterSequencerServer(r, s) }

// Close ends every open stream with UNAVAILABLE, so followers reconnect.
func (s *Server) Close() { s.stop() }

// SubmitTx implements pb.SequencerServer.
func (s *Server) SubmitTx(ctx context.Context, tx *pb.Tx) (*pb.SubmitTxResponse, error) {
	hash, depth, err := s.chain.Submit(ctx, tx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SubmitTxResponse{Hash: hash, MempoolDepth: uint64(depth)}, nil
}

// StreamBlocks implements pb.SequencerServer.
func (s *Server) StreamBlocks(req *pb.StreamBlocksRequest, stream grpc.ServerStreamingServer[pb.Block]) error {
	if s.stopping.Err() != nil {
		return status.Error(codes.Unavailable, "sequencer shutting down")
	}
	sub, err := s.chain.Subscribe(req.GetFromBlock())
	if errors.Is(err, ErrBeyondHead) {
		n, hash := s.chain.Tip()
		stream.SetTrailer(metadata.Pairs(HeadHeader, strconv.FormatUint(n, 10), HeadHashHeader, hash))
	}
	if err != nil {
		return toStatus(err)
	}
	defer sub.Close()
	if err := stream.SendHeader(metadata.Pairs(HeadHeader, strconv.FormatUint(sub.Head(), 10))); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	for {
		b, err := sub.Next(ctx)
		switch {
		case errors.Is(err, ErrLagging):
			return status.Errorf(codes.ResourceExhausted, "%v; resubscribe with from_block=%d", err, sub.Last()+1)
		case err != nil && s.stopping.Err() != nil:
			return status.Error(codes.Unavailable, "sequencer shutting down")
		case err != nil:
			return toStatus(err)
		}
		if err := stream.Send(b); err != nil {
			return err
		}
	}
}

func toStatus(err error) error {
	var c codes.Code
	switch {
	case errors.Is(err, ErrInvalidTx):
		c = codes.InvalidArgument
	case errors.Is(err, ErrMempoolFull), errors.Is(err, ErrLagging):
		c = codes.ResourceExhausted
	case errors.Is(err, ErrBeyondHead):
		c = codes.FailedPrecondition
	case errors.Is(err, ErrClosed):
		c = codes.Unavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	default:
		c = codes.Internal
	}
	return status.Error(c, err.Error())
}

var _ pb.SequencerServer = (*Server)(nil)
