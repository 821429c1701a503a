package gatewaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reprise-dev/reprise/compose/testers"
)

// Request is one request as the fake saw it.
type Request struct {
	// Player is the bearer's player, or the user logging in.
	Player, Method, Path, Proto, UserAgent string
	// Fault and Retry are the testers' own tags (testers.HeaderFault, HeaderRetry).
	Fault, Retry string
	// Status is what the fake answered.
	Status int
	At     time.Time
}

// Gateway is the running fake.
type Gateway struct {
	URL string

	srv        *httptest.Server
	fail       func(*http.Request) bool
	mu         sync.Mutex
	items      int
	owner      map[int]string
	balance    map[string]int
	inventory  map[string][]int
	history    map[string][]string
	orders     map[string]placed
	missions   map[string]map[string]int
	requests   []Request
	traces     []testers.NARTrace
	orderCount int
}

// Option configures the fake.
type Option func(*Gateway)

// Items sets how many items exist (ids 1..n); 50 by default.
func Items(n int) Option { return func(g *Gateway) { g.items = n } }

// Fail makes the fake answer 503 to requests for which f is true, before
// doing anything; f is called under the fake's lock.
func Fail(f func(*http.Request) bool) Option { return func(g *Gateway) { g.fail = f } }

// Start serves the fake on a loopback port until the test ends.
func Start(t testing.TB, opts ...Option) *Gateway {
	t.Helper()
	g := &Gateway{
		items: 50, owner: map[int]string{}, balance: map[string]int{},
		inventory: map[string][]int{}, history: map[string][]string{}, missions: map[string]map[string]int{},
		orders: map[string]placed{},
	}
	for _, o := range opts {
		o(g)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gatewaytest: listen: %v", err)
	}
	g.srv = httptest.NewUnstartedServer(g.handler())
	g.srv.Listener.Close()
	g.srv.Listener = ln
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetUnencryptedHTTP2(true)
	g.srv.Config.Protocols = &ps
	g.srv.Start()
	g.URL = g.srv.URL
	t.Cleanup(g.Close)
	return g
}

// Close stops the fake and closes every connection.
func (g *Gateway) Close() {
	g.srv.CloseClientConnections()
	g.srv.Close()
}

// Requests returns every request seen, in arrival order.
func (g *Gateway) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.requests...)
}

// NARTraces returns the NAR traces accepted.
func (g *Gateway) NARTraces() []testers.NARTrace {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]testers.NARTrace(nil), g.traces...)
}

// Owners returns who bought each sold item.
func (g *Gateway) Owners() map[int]string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[int]string, len(g.owner))
	for k, v := range g.owner {
		out[k] = v
	}
	return out
}

const startBalance = 1000

func (g *Gateway) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/login", g.login)
	mux.HandleFunc("GET /v1/items", g.auth(g.listItems))
	mux.HandleFunc("POST /v1/items/{id}/buy", g.auth(g.buy))
	mux.HandleFunc("GET /v1/orders/{id}", g.auth(g.orderOf))
	mux.HandleFunc("GET /v1/missions/{id}", g.auth(g.mission(false)))
	mux.HandleFunc("POST /v1/missions/{id}/advance", g.auth(g.mission(true)))
	mux.HandleFunc("GET /v1/players/{id}/inventory", g.auth(g.inventoryOf))
	mux.HandleFunc("GET /v1/players/{id}/history", g.auth(g.historyOf))
	mux.HandleFunc("POST /v1/telemetry/nar", g.auth(g.nar))
	return mux
}

// record notes the request and writes the answer; the caller holds g.mu.
func (g *Gateway) record(w http.ResponseWriter, r *http.Request, player string, status int, body any) {
	g.requests = append(g.requests, Request{
		Player: player, Method: r.Method, Path: r.URL.Path, Proto: r.Proto, UserAgent: r.UserAgent(),
		Fault: r.Header.Get(testers.HeaderFault), Retry: r.Header.Get(testers.HeaderRetry),
		Status: status, At: time.Now(),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func errBody(msg string) map[string]string { return map[string]string{"error": msg} }

func (g *Gateway) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ User, Password string }
	err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.fail != nil && g.fail(r):
		g.record(w, r, in.User, http.StatusServiceUnavailable, errBody("unavailable"))
	case err != nil || in.User == "" || in.Password == "":
		g.record(w, r, in.User, http.StatusBadRequest, errBody("want user and password"))
	default:
		if _, ok := g.balance[in.User]; !ok {
			g.balance[in.User] = startBalance
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-" + in.User, Path: "/"})
		g.record(w, r, in.User, http.StatusOK, map[string]string{"token": "tok." + in.User, "player_id": in.User})
	}
}

type authed func(w http.ResponseWriter, r *http.Request, player string)

// auth resolves the bearer token and holds g.mu for the handler.
func (g *Gateway) auth(h authed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		player, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok.")
		g.mu.Lock()
		defer g.mu.Unlock()
		_, known := g.balance[player]
		switch {
		case !ok || !known:
			g.record(w, r, "", http.StatusUnauthorized, errBody("log in first"))
		case g.fail != nil && g.fail(r):
			g.record(w, r, player, http.StatusServiceUnavailable, errBody("unavailable"))
		default:
			h(w, r, player)
		}
	}
}

type item struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price"`
	Owner string `json:"owner"`
}

func (g *Gateway) listItems(w http.ResponseWriter, r *http.Request, player string) {
	out := make([]item, g.items)
	for i := range out {
		out[i] = item{ID: i + 1, Name: fmt.Sprintf("item %d", i+1), Price: 10, Owner: g.owner[i+1]}
	}
	g.record(w, r, player, http.StatusOK, map[string]any{"items": out})
}

func (g *Gateway) buy(w http.ResponseWriter, r *http.Request, player string) {
	id, err := strconv.Atoi(r.PathValue("id"))
	switch {
	case err != nil || id < 1 || id > g.items:
		g.record(w, r, player, http.StatusNotFound, errBody("no such item"))
	case g.owner[id] != "":
		g.record(w, r, player, http.StatusConflict, errBody("already sold"))
	case g.balance[player] < 10:
		g.record(w, r, player, http.StatusPaymentRequired, errBody("insufficient balance"))
	default:
		g.owner[id] = player
		g.balance[player] -= 10
		g.inventory[player] = append(g.inventory[player], id)
		g.orderCount++
		order := fmt.Sprintf("ord-%d", g.orderCount)
		g.history[player] = append(g.history[player], order)
		g.orders[order] = placed{player, id}
		g.record(w, r, player, http.StatusOK, map[string]any{"order_id": order, "item": id, "balance": g.balance[player], "tx": fmt.Sprintf("0x%x", g.orderCount)})
	}
}

type placed struct {
	player string
	item   int
}

// orderOf shows an order to its buyer; anyone else gets 404, as the real
// gateway answers.
func (g *Gateway) orderOf(w http.ResponseWriter, r *http.Request, player string) {
	o, ok := g.orders[r.PathValue("id")]
	if !ok || o.player != player {
		g.record(w, r, player, http.StatusNotFound, errBody("no such order"))
		return
	}
	g.record(w, r, player, http.StatusOK, map[string]any{"order_id": r.PathValue("id"), "player": o.player, "item": o.item})
}

func (g *Gateway) mission(advance bool) authed {
	return func(w http.ResponseWriter, r *http.Request, player string) {
		m := r.PathValue("id")
		if g.missions[player] == nil {
			g.missions[player] = map[string]int{}
		}
		if advance {
			g.missions[player][m]++
		}
		g.record(w, r, player, http.StatusOK, map[string]any{"mission": m, "step": g.missions[player][m]})
	}
}

func (g *Gateway) inventoryOf(w http.ResponseWriter, r *http.Request, player string) {
	g.record(w, r, player, http.StatusOK, map[string]any{"player": r.PathValue("id"), "items": g.inventory[r.PathValue("id")]})
}

func (g *Gateway) historyOf(w http.ResponseWriter, r *http.Request, player string) {
	g.record(w, r, player, http.StatusOK, map[string]any{"player": r.PathValue("id"), "orders": g.history[r.PathValue("id")]})
}

func (g *Gateway) nar(w http.ResponseWriter, r *http.Request, player string) {
	var t testers.NARTrace
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		g.record(w, r, player, http.StatusBadRequest, errBody(err.Error()))
		return
	}
	g.traces = append(g.traces, t)
	g.record(w, r, player, http.StatusAccepted, map[string]string{"status": "accepted"})
}
