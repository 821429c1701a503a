package marketplace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// Defaults for Config.
const (
	DefaultItems         = 50
	DefaultStartBalance  = 1000
	DefaultSubmitTimeout = 2 * time.Second
	maxItems             = 100_000
	maxPlayerLen         = 64
	// maxRequestIDs bounds the idempotency table; past it the table starts
	// afresh, which a stand-in service can afford.
	maxRequestIDs = 1 << 16
)

// ErrConfig is wrapped by every Config.Validate error.
var ErrConfig = errors.New("invalid marketplace config")

// Config is the marketplace's behaviour. The seeded fault is a field, not
// an environment lookup, so that tests switch it on directly.
type Config struct {
	// Items is the size of the seeded catalogue; ids run 1..Items.
	Items int
	// StartBalance is what EnsurePlayer credits a new player.
	StartBalance int64
	// SubmitTimeout bounds each SubmitTx call to the sequencer.
	SubmitTimeout time.Duration
	// FaultBuyRace releases the lock between the check and the update of a
	// buy (FAULT_BUY_RACE=1).
	FaultBuyRace bool
}

// DefaultConfig is the marketplace as the stack runs it.
func DefaultConfig() Config {
	return Config{Items: DefaultItems, StartBalance: DefaultStartBalance, SubmitTimeout: DefaultSubmitTimeout}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Items < 1 || c.Items > maxItems:
		return fmt.Errorf("%w: items: want 1..%d, got %d", ErrConfig, maxItems, c.Items)
	case c.StartBalance < 0:
		return fmt.Errorf("%w: start-balance: want >= 0, got %d", ErrConfig, c.StartBalance)
	case c.SubmitTimeout <= 0:
		return fmt.Errorf("%w: submit-timeout: want > 0, got %s", ErrConfig, c.SubmitTimeout)
	}
	return nil
}

// Submitter is the part of the sequencer the marketplace uses;
// platform.SequencerClient satisfies it.
type Submitter interface {
	SubmitTx(ctx context.Context, tx *platform.Tx, opts ...grpc.CallOption) (*platform.SubmitTxResponse, error)
}

// Outcomes of a buy, as counted in marketplace_buys_total.
const (
	outcomeOK           = "ok"
	outcomeSold         = "sold"
	outcomeInsufficient = "insufficient"
	outcomeNotFound     = "not_found"
	outcomeInvalid      = "invalid"
	outcomeTxFailed     = "tx_failed"
)

// Reasons carried in the google.rpc.ErrorInfo detail of FAILED_PRECONDITION,
// so that the gateway can tell 409 from 402 without parsing messages.
const (
	ReasonItemSold            = "ITEM_SOLD"
	ReasonInsufficientBalance = "INSUFFICIENT_BALANCE"
	errorDomain               = "marketplace.reprise.dev"
)

type item struct {
	id    int64
	name  string
	price int64
	owner string
}

// Server implements platform.MarketplaceServer over in-memory state.
type Server struct {
	platform.UnimplementedMarketplaceServer

	cfg     Config
	seq     Submitter
	log     *slog.Logger
	metrics *metrics

	mu       sync.Mutex
	items    map[int64]*item
	balances map[string]int64
	// revenue is what the market has been paid; with the balances it makes
	// the conservation invariant checkable.
	revenue  int64
	orderSeq int64
	// orderTag is this process's part of every order id.
	orderTag string
	orders   map[string]*platform.Order
	done     map[string]*platform.BuyResponse
}

// New builds a marketplace with the seeded catalogue. seq may be nil: buys
// then carry no tx hash.
func New(cfg Config, seq Submitter, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tag, err := newOrderTag()
	if err != nil {
		return nil, err
	}
	s := &Server{
		orderTag: tag,
		orders:   map[string]*platform.Order{},
		cfg:      cfg,
		seq:      seq,
		log:      log,
		metrics:  newMetrics(),
		items:    make(map[int64]*item, cfg.Items),
		balances: map[string]int64{},
		done:     map[string]*platform.BuyResponse{},
	}
	for id := int64(1); id <= int64(cfg.Items); id++ {
		s.items[id] = &item{id: id, name: itemName(id), price: itemPrice(id)}
	}
	return s, nil
}

// EnsurePlayer creates the player with the starting balance if needed.
func (s *Server) EnsurePlayer(_ context.Context, req *platform.EnsurePlayerRequest) (*platform.EnsurePlayerResponse, error) {
	if err := validPlayer(req.GetPlayer()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bal, created := s.ensureLocked(req.GetPlayer())
	return &platform.EnsurePlayerResponse{Player: req.GetPlayer(), Balance: bal, Created: created}, nil
}

// ensureLocked needs s.mu held.
func (s *Server) ensureLocked(player string) (balance int64, created bool) {
	if bal, ok := s.balances[player]; ok {
		return bal, false
	}
	s.balances[player] = s.cfg.StartBalance
	return s.cfg.StartBalance, true
}

// ListItems returns the catalogue in id order.
func (s *Server) ListItems(context.Context, *platform.ListItemsRequest) (*platform.ListItemsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*platform.Item, 0, len(s.items))
	for id := int64(1); id <= int64(len(s.items)); id++ {
		it := s.items[id]
		out = append(out, &platform.Item{Id: it.id, Name: it.name, Price: it.price, Owner: it.owner})
	}
	return &platform.ListItemsResponse{Items: out}, nil
}

// GetBalance answers NOT_FOUND for a player never seen.
func (s *Server) GetBalance(_ context.Context, req *platform.GetBalanceRequest) (*platform.GetBalanceResponse, error) {
	if err := validPlayer(req.GetPlayer()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	bal, ok := s.balances[req.GetPlayer()]
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "player %q not found", req.GetPlayer())
	}
	return &platform.GetBalanceResponse{Player: req.GetPlayer(), Balance: bal}, nil
}

func validPlayer(p string) error {
	if p == "" || len(p) > maxPlayerLen {
		return status.Errorf(codes.InvalidArgument, "player: want 1..%d bytes, got %d", maxPlayerLen, len(p))
	}
	return nil
}

var _ platform.MarketplaceServer = (*Server)(nil)
