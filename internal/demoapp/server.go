package demoapp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Server is the game API. Its state is guarded by one mutex: it is a demo
// backend, correct rather than fast.
type Server struct {
	mu       sync.Mutex
	tokens   map[string]string // token -> player
	balances map[string]int
	owners   map[int]string // item -> owner ("" = market)
	prices   map[int]int
	missions map[string]int // player/mission -> step
	orders   int
	mux      *http.ServeMux
}

// NewServer returns a server with items 1..items on sale.
func NewServer(items int) *Server {
	s := &Server{
		tokens: map[string]string{}, balances: map[string]int{},
		owners: map[int]string{}, prices: map[int]int{}, missions: map[string]int{},
		mux: http.NewServeMux(),
	}
	for i := 1; i <= items; i++ {
		s.owners[i] = ""
		s.prices[i] = 10 + i%7*5
	}
	s.mux.HandleFunc("POST /v1/login", s.login)
	s.mux.HandleFunc("GET /v1/items", s.auth(s.listItems))
	s.mux.HandleFunc("POST /v1/items/{id}/buy", s.auth(s.buy))
	s.mux.HandleFunc("GET /v1/missions/{id}", s.auth(s.mission))
	s.mux.HandleFunc("POST /v1/missions/{id}/advance", s.auth(s.advance))
	s.mux.HandleFunc("GET /v1/players/{id}/inventory", s.auth(s.inventory))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.User == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user and password required"})
		return
	}
	tok := newToken(in.User)
	s.mu.Lock()
	s.tokens[tok] = in.User
	if _, ok := s.balances[in.User]; !ok {
		s.balances[in.User] = 100
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: tok[:16], Path: "/", HttpOnly: true})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "player_id": in.User})
}

// newToken issues a JWT-shaped bearer token whose sub claim is the player, so
// that the recorder's jwt-sub extractor finds the session.
func newToken(player string) string {
	var nonce [8]byte
	rand.Read(nonce[:])
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"nonce":%q}`, player, hex.EncodeToString(nonce[:]))))
	return head + "." + body + "." + hex.EncodeToString(nonce[:])
}

func (s *Server) auth(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		player, known := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !known {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		next(w, r, player)
	}
}

func (s *Server) listItems(w http.ResponseWriter, _ *http.Request, _ string) {
	type item struct {
		ID    int    `json:"id"`
		Price int    `json:"price"`
		Owner string `json:"owner,omitempty"`
	}
	s.mu.Lock()
	out := make([]item, 0, len(s.prices))
	for id := 1; id <= len(s.prices); id++ {
		out = append(out, item{ID: id, Price: s.prices[id], Owner: s.owners[id]})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) buy(w http.ResponseWriter, r *http.Request, player string) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	price, ok := s.prices[id]
	switch {
	case err != nil || !ok:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such item"})
	case s.owners[id] != "":
		writeJSON(w, http.StatusConflict, map[string]string{"error": "already sold"})
	case s.balances[player] < price:
		writeJSON(w, http.StatusPaymentRequired, map[string]string{"error": "insufficient balance"})
	default:
		s.balances[player] -= price
		s.owners[id] = player
		s.orders++
		writeJSON(w, http.StatusOK, map[string]any{"order_id": fmt.Sprintf("ord-%06d", s.orders), "item": id, "balance": s.balances[player]})
	}
}

func (s *Server) mission(w http.ResponseWriter, r *http.Request, player string) {
	s.mu.Lock()
	step := s.missions[player+"/"+r.PathValue("id")]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"mission": r.PathValue("id"), "step": step})
}

func (s *Server) advance(w http.ResponseWriter, r *http.Request, player string) {
	s.mu.Lock()
	key := player + "/" + r.PathValue("id")
	s.missions[key]++
	step := s.missions[key]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"mission": r.PathValue("id"), "step": step})
}

func (s *Server) inventory(w http.ResponseWriter, r *http.Request, player string) {
	if r.PathValue("id") != player {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "not your inventory"})
		return
	}
	s.mu.Lock()
	var items []int
	for id := 1; id <= len(s.prices); id++ {
		if s.owners[id] == player {
			items = append(items, id)
		}
	}
	bal := s.balances[player]
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"player": player, "items": items, "balance": bal})
}
