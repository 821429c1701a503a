package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
)

const (
	sessionCookie   = "session"
	maxLoginBytes   = 4 << 10
	maxPasswordLen  = 256
	maxRequestIDLen = 128
	defaultHistory  = 50
	maxHistory      = 1000
)

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token    string `json:"token"`
	PlayerID string `json:"player_id"`
	Balance  int64  `json:"balance"`
}

// login accepts any non-empty password: the stand-in has no user store, but
// it does create the player in the marketplace, as a first login would.
func (g *Gateway) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBytes))
	if err := dec.Decode(&req); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("login body: over %d bytes", maxLoginBytes), "TOO_LARGE")
			return
		}
		writeError(w, http.StatusBadRequest, "login body: "+err.Error(), "INVALID_ARGUMENT")
		return
	}
	switch {
	case !validPlayer(req.User):
		writeError(w, http.StatusBadRequest, "user: want 1..64 of [A-Za-z0-9._-]", "INVALID_ARGUMENT")
		return
	case req.Password == "" || len(req.Password) > maxPasswordLen:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("password: want 1..%d bytes", maxPasswordLen), "INVALID_ARGUMENT")
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	ep, err := g.market.EnsurePlayer(ctx, &platform.EnsurePlayerRequest{Player: req.User})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	tok, err := g.tokens.issue(req.User)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error(), "")
		return
	}
	g.logins.Inc()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: int(g.cfg.TokenTTL.Seconds()),
	})
	writeJSON(w, http.StatusOK, loginResponse{Token: tok, PlayerID: req.User, Balance: ep.GetBalance()})
}

type itemJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Owner string `json:"owner"`
}

func toItems(in []*platform.Item) []itemJSON {
	out := make([]itemJSON, 0, len(in))
	for _, it := range in {
		out = append(out, itemJSON{ID: it.GetId(), Name: it.GetName(), Price: it.GetPrice(), Owner: it.GetOwner()})
	}
	return out
}

func (g *Gateway) listItems(w http.ResponseWriter, r *http.Request, _ string) {
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	resp, err := g.market.ListItems(ctx, &platform.ListItemsRequest{})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": toItems(resp.GetItems())})
}

type buyResponse struct {
	OrderID string `json:"order_id"`
	Item    int64  `json:"item"`
	Balance int64  `json:"balance"`
	Tx      string `json:"tx"`
}

// buy passes an Idempotency-Key header on as the marketplace's request id.
func (g *Gateway) buy(w http.ResponseWriter, r *http.Request, player string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("item id %q: want a positive integer", r.PathValue("id")), "INVALID_ARGUMENT")
		return
	}
	if g.cfg.FaultPanic && id%PanicDivisor == 0 {
		applyPromotion(id)
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxRequestIDLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Idempotency-Key: longer than %d bytes", maxRequestIDLen), "INVALID_ARGUMENT")
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	resp, err := g.market.Buy(ctx, &platform.BuyRequest{Player: player, ItemId: id, RequestId: key})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, buyResponse{OrderID: resp.GetOrderId(), Item: resp.GetItemId(), Balance: resp.GetBalance(), Tx: resp.GetTxHash()})
}

type orderJSON struct {
	OrderID      string `json:"order_id"`
	Player       string `json:"player"`
	Item         int64  `json:"item"`
	Price        int64  `json:"price"`
	BalanceAfter int64  `json:"balance_after"`
	Tx           string `json:"tx"`
	CreatedNano  int64  `json:"created_unix_nano"`
}

// getOrder shows an order to its buyer only. Anyone else gets the same 404
// as for an unknown id, so order ids cannot be probed for other players'
// purchases.
func (g *Gateway) getOrder(w http.ResponseWriter, r *http.Request, player string) {
	id := r.PathValue("id")
	if !idRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("order id %q: want 1..64 of [A-Za-z0-9_-]", id), "INVALID_ARGUMENT")
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	o, err := g.market.GetOrder(ctx, &platform.GetOrderRequest{OrderId: id})
	// An unknown order and another player's are one answer, made here, so
	// that ids cannot be probed.
	if status.Code(err) == codes.NotFound || (err == nil && o.GetPlayer() != player) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("order %q not found", id), "NOT_FOUND")
		return
	}
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, orderJSON{
		OrderID: o.GetOrderId(), Player: o.GetPlayer(), Item: o.GetItemId(), Price: o.GetPrice(),
		BalanceAfter: o.GetBalanceAfter(), Tx: o.GetTxHash(), CreatedNano: o.GetCreatedUnixNano(),
	})
}

// applyPromotion is the seeded fault FAULT_PANIC: a promotion table that was
// never filled, indexed by a valid item id. It panics with index out of
// range, a real runtime panic that svc.Handle recovers as a 500.
func applyPromotion(id int64) int64 {
	var promotions []int64
	return promotions[id/PanicDivisor]
}

type progressJSON struct {
	Mission string `json:"mission"`
	Step    int32  `json:"step"`
}

func (g *Gateway) missionID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !idRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("mission id %q: want 1..64 of [A-Za-z0-9_-]", id), "INVALID_ARGUMENT")
		return "", false
	}
	return id, true
}

func (g *Gateway) getMission(w http.ResponseWriter, r *http.Request, player string) {
	id, ok := g.missionID(w, r)
	if !ok {
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	p, err := g.missions.GetProgress(ctx, &platform.GetProgressRequest{Player: player, Mission: id})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, progressJSON{Mission: p.GetMission(), Step: p.GetStep()})
}

func (g *Gateway) advanceMission(w http.ResponseWriter, r *http.Request, player string) {
	id, ok := g.missionID(w, r)
	if !ok {
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	p, err := g.missions.Advance(ctx, &platform.AdvanceRequest{Player: player, Mission: id})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, progressJSON{Mission: p.GetMission(), Step: p.GetStep()})
}

// ownPlayer lets a player read only their own inventory and history.
func (g *Gateway) ownPlayer(w http.ResponseWriter, r *http.Request, player string) bool {
	if id := r.PathValue("id"); id != player {
		g.authFailures.WithLabelValues("forbidden").Inc()
		writeError(w, http.StatusForbidden, fmt.Sprintf("player %q may not read player %q", player, id), "PERMISSION_DENIED")
		return false
	}
	return true
}

func (g *Gateway) inventory(w http.ResponseWriter, r *http.Request, player string) {
	if !g.ownPlayer(w, r, player) {
		return
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	inv, err := g.indexer.Inventory(ctx, &platform.InventoryRequest{Player: player})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"player": player, "items": toItems(inv.GetItems()), "as_of_block": inv.GetAsOfBlock(),
	})
}

type txJSON struct {
	Hash          string `json:"hash"`
	Kind          string `json:"kind"`
	ItemID        int64  `json:"item_id,omitempty"`
	Amount        int64  `json:"amount,omitempty"`
	From          string `json:"from,omitempty"`
	To            string `json:"to,omitempty"`
	Mission       string `json:"mission,omitempty"`
	Step          int32  `json:"step,omitempty"`
	SubmittedNano int64  `json:"submitted_unix_nano"`
}

// history takes an optional ?limit=1..1000 (default 50).
func (g *Gateway) history(w http.ResponseWriter, r *http.Request, player string) {
	if !g.ownPlayer(w, r, player) {
		return
	}
	limit := defaultHistory
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxHistory {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want 1..%d", s, maxHistory), "INVALID_ARGUMENT")
			return
		}
		limit = n
	}
	ctx, cancel := g.backendCtx(r)
	defer cancel()
	h, err := g.indexer.History(ctx, &platform.HistoryRequest{Player: player, Limit: int32(limit)})
	if err != nil {
		writeBackendError(w, err)
		return
	}
	txs := make([]txJSON, 0, len(h.GetTxs()))
	for _, tx := range h.GetTxs() {
		txs = append(txs, txJSON{
			Hash: tx.GetHash(), Kind: tx.GetKind(), ItemID: tx.GetItemId(), Amount: tx.GetAmount(),
			From: tx.GetFrom(), To: tx.GetTo(), Mission: tx.GetMission(), Step: tx.GetStep(),
			SubmittedNano: tx.GetSubmittedUnixNano(),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"player": player, "txs": txs, "as_of_block": h.GetAsOfBlock()})
}
