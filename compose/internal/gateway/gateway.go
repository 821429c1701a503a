package gateway

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/internal/svc"
	"github.com/reprise-dev/reprise/compose/proto/platform"
)

// Gateway serves the HTTP API over the backends' gRPC clients.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	tokens   *tokens
	market   platform.MarketplaceClient
	missions platform.MissionsClient
	indexer  platform.IndexerClient

	logins       prometheus.Counter
	authFailures *prometheus.CounterVec
	narTraces    *prometheus.CounterVec
	narRejected  *prometheus.CounterVec
}

// NewService builds the gateway as a stack service: it dials the backends,
// registers the API on the HTTP port and is ready once every backend
// answers a cheap call.
func NewService(o svc.Options, cfg Config, logOut io.Writer) (_ *svc.Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o.GRPCAddr = "" // the gateway serves only HTTP
	s, err := svc.New("gateway", o, logOut)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = s.Shutdown(context.Background())
		}
	}()
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		if _, err := rand.Read(cfg.Secret); err != nil {
			return nil, fmt.Errorf("gateway: token secret: %w", err)
		}
	}
	g := &Gateway{
		cfg:    cfg,
		log:    s.Log,
		tokens: &tokens{secret: cfg.Secret, ttl: cfg.TokenTTL, now: time.Now},
		logins: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_logins_total", Help: "Successful logins.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_auth_failures_total", Help: "Requests refused 401 or 403, by reason.",
		}, []string{"reason"}),
		narTraces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_nar_traces_total", Help: "NAR traces accepted, by inference backend.",
		}, []string{"backend"}),
		narRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_nar_rejected_total", Help: "NAR trace posts refused, by reason: too_large or invalid.",
		}, []string{"reason"}),
	}
	if err := s.Registry.Register(g.logins); err != nil {
		return nil, err
	}
	for _, c := range []prometheus.Collector{g.authFailures, g.narTraces, g.narRejected} {
		if err := s.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("gateway: metrics: %w", err)
		}
	}
	mc, err := s.Dial(cfg.Marketplace)
	if err != nil {
		return nil, err
	}
	sc, err := s.Dial(cfg.Missions)
	if err != nil {
		return nil, err
	}
	ic, err := s.Dial(cfg.Indexer)
	if err != nil {
		return nil, err
	}
	g.market, g.missions, g.indexer = platform.NewMarketplaceClient(mc), platform.NewMissionsClient(sc), platform.NewIndexerClient(ic)
	g.routes(s)
	g.readiness(s)
	if cfg.FaultPanic {
		s.Log.Warn("seeded fault on", "fault", "FAULT_PANIC", "trigger", fmt.Sprintf("POST /v1/items/{id}/buy with id %% %d == 0", PanicDivisor))
	}
	return s, nil
}

func (g *Gateway) routes(s *svc.Service) {
	s.Handle("POST /v1/login", g.login)
	s.Handle("GET /v1/items", g.authed(g.listItems))
	s.Handle("POST /v1/items/{id}/buy", g.authed(g.buy))
	s.Handle("GET /v1/orders/{id}", g.authed(g.getOrder))
	s.Handle("GET /v1/missions/{id}", g.authed(g.getMission))
	s.Handle("POST /v1/missions/{id}/advance", g.authed(g.advanceMission))
	s.Handle("GET /v1/players/{id}/inventory", g.authed(g.inventory))
	s.Handle("GET /v1/players/{id}/history", g.authed(g.history))
	s.Handle("POST /v1/telemetry/nar", g.authed(g.narTrace))
}

// readiness probes each backend with a read-only call. Any answer from the
// server counts, even an error status; a transport failure, a timeout or
// Unimplemented (another service on that port) means it is not there yet.
func (g *Gateway) readiness(s *svc.Service) {
	const probe = "readyz-probe"
	answered := func(name string, err error) error {
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unimplemented:
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	s.ReadyWhen(func(ctx context.Context) error {
		_, err := g.market.GetBalance(ctx, &platform.GetBalanceRequest{Player: probe})
		return answered("marketplace", err)
	})
	s.ReadyWhen(func(ctx context.Context) error {
		_, err := g.missions.GetProgress(ctx, &platform.GetProgressRequest{Player: probe, Mission: probe})
		return answered("missions", err)
	})
	s.ReadyWhen(func(ctx context.Context) error {
		_, err := g.indexer.History(ctx, &platform.HistoryRequest{Player: probe, Limit: 1})
		return answered("indexer", err)
	})
}

// authed verifies the token and passes its subject on; every API route but
// login goes through it.
func (g *Gateway) authed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var cookie string
		if c, err := r.Cookie(sessionCookie); err == nil {
			cookie = c.Value
		}
		tok, err := bearer(r.Header.Get("Authorization"), cookie)
		if err == nil {
			var player string
			if player, err = g.tokens.verify(tok); err == nil {
				h(w, r, player)
				return
			}
		}
		g.authFailures.WithLabelValues(authReason(err)).Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="reprise"`)
		writeError(w, http.StatusUnauthorized, err.Error(), "")
	}
}

// backendCtx bounds one backend call.
func (g *Gateway) backendCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), g.cfg.BackendTimeout)
}

var (
	playerRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func validPlayer(p string) bool { return playerRE.MatchString(p) }
