package marketplace

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// Buy sells an unsold item to the player. An unknown player is created with
// the starting balance first, so that a restarted marketplace keeps serving
// players who logged in before the restart.
func (s *Server) Buy(ctx context.Context, req *platform.BuyRequest) (*platform.BuyResponse, error) {
	if err := validPlayer(req.GetPlayer()); err != nil {
		s.metrics.buys.WithLabelValues(outcomeInvalid).Inc()
		return nil, err
	}
	var (
		resp    *platform.BuyResponse
		outcome string
		err     error
	)
	if s.cfg.FaultBuyRace {
		resp, outcome, err = s.buyRacy(ctx, req)
	} else {
		resp, outcome, err = s.buyAtomic(ctx, req)
	}
	s.metrics.buys.WithLabelValues(outcome).Inc()
	if err != nil {
		return nil, err
	}
	s.log.Debug("buy", "player", req.GetPlayer(), "item", req.GetItemId(), "order", resp.GetOrderId(), "balance", resp.GetBalance())
	return resp, nil
}

// buyAtomic holds the lock across check and update; the sequencer is told
// afterwards so that a slow sequencer does not serialise every buy.
func (s *Server) buyAtomic(ctx context.Context, req *platform.BuyRequest) (*platform.BuyResponse, string, error) {
	player, id := req.GetPlayer(), req.GetItemId()
	s.mu.Lock()
	if prev, ok := s.done[idemKey(req)]; ok {
		s.mu.Unlock()
		return prev, outcomeOK, nil
	}
	it, ok := s.items[id]
	if !ok {
		s.mu.Unlock()
		return nil, outcomeNotFound, status.Errorf(codes.NotFound, "item %d not found", id)
	}
	balance, _ := s.ensureLocked(player)
	if outcome, err := checkBuy(it, player, balance); err != nil {
		s.mu.Unlock()
		return nil, outcome, err
	}
	balance -= it.price
	s.balances[player] = balance
	it.owner = player
	s.revenue += it.price
	order := s.createOrderLocked(player, id, it.price, balance)
	price := it.price
	s.mu.Unlock()

	resp := &platform.BuyResponse{OrderId: order, ItemId: id, Balance: balance}
	hash, err := s.submit(ctx, player, id, price)
	if err != nil {
		// The order stands: the caller sees an unknown outcome, as with any
		// real service whose downstream fails after its commit.
		return nil, outcomeTxFailed, status.Errorf(codes.Unavailable, "order %s committed, but the sequencer did not take its tx: %v", order, err)
	}
	resp.TxHash = hash
	s.setOrderTx(order, hash)
	s.remember(req, resp)
	return resp, outcomeOK, nil
}

// buyRacy is the seeded fault FAULT_BUY_RACE: it reads owner and balance
// under the lock, releases it to submit the tx (a real network round trip),
// then re-acquires it and writes without checking again. Two concurrent
// buys of one item can both succeed, and concurrent buys by one player can
// drive the balance negative.
func (s *Server) buyRacy(ctx context.Context, req *platform.BuyRequest) (*platform.BuyResponse, string, error) {
	player, id := req.GetPlayer(), req.GetItemId()
	s.mu.Lock()
	it, ok := s.items[id]
	if !ok {
		s.mu.Unlock()
		return nil, outcomeNotFound, status.Errorf(codes.NotFound, "item %d not found", id)
	}
	balance, _ := s.ensureLocked(player)
	outcome, err := checkBuy(it, player, balance)
	price := it.price
	s.mu.Unlock()
	if err != nil {
		return nil, outcome, err
	}

	hash, err := s.submit(ctx, player, id, price)
	if err != nil {
		return nil, outcomeTxFailed, status.Errorf(codes.Unavailable, "sequencer did not take the tx: %v", err)
	}
	runtime.Gosched()

	s.mu.Lock()
	it.owner = player
	s.balances[player] -= price
	balance = s.balances[player]
	s.revenue += price
	order := s.createOrderLocked(player, id, price, balance)
	s.orders[order].TxHash = hash
	s.mu.Unlock()
	resp := &platform.BuyResponse{OrderId: order, ItemId: id, Balance: balance, TxHash: hash}
	return resp, outcomeOK, nil
}

// checkBuy is the precondition both paths share.
func checkBuy(it *item, player string, balance int64) (string, error) {
	if it.owner != "" {
		return outcomeSold, failedPrecondition(ReasonItemSold, fmt.Sprintf("item %d already sold", it.id))
	}
	if balance < it.price {
		return outcomeInsufficient, failedPrecondition(ReasonInsufficientBalance,
			fmt.Sprintf("insufficient balance: player %q has %d, item %d costs %d", player, balance, it.id, it.price))
	}
	return "", nil
}

func failedPrecondition(reason, msg string) error {
	st := status.New(codes.FailedPrecondition, msg)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: errorDomain}); err == nil {
		st = withInfo
	}
	return st.Err()
}

// Reason returns the ErrorInfo reason of a marketplace error, or "".
func Reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func (s *Server) submit(ctx context.Context, player string, id, price int64) (string, error) {
	if s.seq == nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SubmitTimeout)
	defer cancel()
	resp, err := s.seq.SubmitTx(ctx, &platform.Tx{
		Kind: "buy", Player: player, ItemId: id, Amount: price,
		From: "", To: player, SubmittedUnixNano: time.Now().UnixNano(),
	})
	if err != nil {
		return "", fmt.Errorf("submit buy tx: %w", err)
	}
	return resp.GetHash(), nil
}

func idemKey(req *platform.BuyRequest) string {
	if req.GetRequestId() == "" {
		return ""
	}
	return req.GetPlayer() + "\x00" + req.GetRequestId()
}

// remember records a successful buy under its request id, so that a retry
// with the same id gets the same order instead of a second purchase.
func (s *Server) remember(req *platform.BuyRequest, resp *platform.BuyResponse) {
	key := idemKey(req)
	if key == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.done) >= maxRequestIDs {
		clear(s.done)
	}
	s.done[key] = resp
}
