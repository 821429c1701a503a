package marketplace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// maxOrderIDLen bounds what GetOrder accepts; real ids are about 20 bytes.
const maxOrderIDLen = 128

// newOrderTag returns the per-process part of order ids. A random tag means
// an id issued by another marketplace process (before a restart, or in the
// stack a recording was made against) is unknown here, as a real service's
// ids would be: a replay must take its order ids from live responses.
func newOrderTag() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("marketplace: order id tag: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// createOrderLocked issues the next order id and keeps the order; it needs
// s.mu held. Orders are bounded by the catalogue (an item is sold once,
// except to the racers of FAULT_BUY_RACE), so the table needs no eviction.
func (s *Server) createOrderLocked(player string, id, price, balanceAfter int64) string {
	s.orderSeq++
	order := fmt.Sprintf("ord-%s-%06d", s.orderTag, s.orderSeq)
	s.orders[order] = &platform.Order{
		OrderId: order, Player: player, ItemId: id, Price: price,
		BalanceAfter: balanceAfter, CreatedUnixNano: time.Now().UnixNano(),
	}
	return order
}

// setOrderTx notes the tx hash once the sequencer has taken the buy.
func (s *Server) setOrderTx(order, hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[order]; ok {
		o.TxHash = hash
	}
}

// GetOrder returns a committed order, whoever bought it: the gateway decides
// who may see it. NOT_FOUND for an id this process never issued.
func (s *Server) GetOrder(_ context.Context, req *platform.GetOrderRequest) (*platform.Order, error) {
	id := req.GetOrderId()
	if id == "" || len(id) > maxOrderIDLen {
		return nil, status.Errorf(codes.InvalidArgument, "order_id: want 1..%d bytes, got %d", maxOrderIDLen, len(id))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "order %q not found", id)
	}
	return &platform.Order{
		OrderId: o.GetOrderId(), Player: o.GetPlayer(), ItemId: o.GetItemId(), Price: o.GetPrice(),
		BalanceAfter: o.GetBalanceAfter(), TxHash: o.GetTxHash(), CreatedUnixNano: o.GetCreatedUnixNano(),
	}, nil
}
