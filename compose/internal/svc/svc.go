package svc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// Options are the flags every service has.
type Options struct {
	HTTPAddr string
	GRPCAddr string
	LogLevel string
}

// Env returns the environment variable key, or def when it is unset.
func Env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// EnvBool reports whether the environment variable key is set to a true value.
func EnvBool(key string) bool {
	v, _ := strconv.ParseBool(os.Getenv(key))
	return v
}

// EnvDuration returns the environment variable key as a duration, or def.
func EnvDuration(key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return d
	}
	return def
}

// Flags binds the common flags, with environment defaults, on fs. A service
// without gRPC passes grpc=false.
func Flags(fs *flag.FlagSet, grpc bool) *Options {
	o := &Options{}
	fs.StringVar(&o.HTTPAddr, "http", Env("HTTP_ADDR", ":8080"), "HTTP address: health, readiness, metrics (env HTTP_ADDR)")
	if grpc {
		fs.StringVar(&o.GRPCAddr, "grpc", Env("GRPC_ADDR", ":9090"), "gRPC address (env GRPC_ADDR)")
	}
	fs.StringVar(&o.LogLevel, "log-level", Env("LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	return o
}

// Service is one running stack service.
type Service struct {
	Name     string
	Log      *slog.Logger
	Registry *prometheus.Registry
	// GRPC is nil for a service without a gRPC port.
	GRPC *grpc.Server
	// Mux serves the HTTP port; /healthz, /readyz and /metrics are taken.
	Mux *http.ServeMux

	opts          Options
	serverMetrics *grpcprom.ServerMetrics
	clientMetrics *grpcprom.ClientMetrics
	red           *redMetrics

	mu        sync.Mutex
	checks    []func(context.Context) error
	ready     atomic.Bool
	httpLn    net.Listener
	grpcLn    net.Listener
	httpSrv   *http.Server
	serveErrs chan error
	conns     []*grpc.ClientConn
}

// New builds a service; it listens only on Start.
func New(name string, o Options, logOut io.Writer) (*Service, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return nil, fmt.Errorf("%s: --log-level: %w", name, err)
	}
	s := &Service{
		Name:     name,
		Log:      slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level})).With("service", name),
		Registry: prometheus.NewRegistry(),
		Mux:      http.NewServeMux(),
		opts:     o,
	}
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	hist := grpcprom.WithHistogramBuckets(prometheus.DefBuckets)
	s.serverMetrics = grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(hist))
	s.clientMetrics = grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram(hist))
	s.red = newRED(s.Registry)
	s.Registry.MustRegister(s.serverMetrics, s.clientMetrics)
	if o.GRPCAddr != "" {
		s.GRPC = grpc.NewServer(
			grpc.ChainUnaryInterceptor(s.serverMetrics.UnaryServerInterceptor(), s.recoverUnary),
			grpc.ChainStreamInterceptor(s.serverMetrics.StreamServerInterceptor()),
		)
	}
	s.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	s.Mux.HandleFunc("GET /readyz", s.readyz)
	s.Mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry}))
	return s, nil
}

// Dial connects to another service with client metrics and a reconnect
// backoff capped at five seconds, so a restarted dependency is found again
// quickly. opts come last and may override those. The connection is closed
// on Shutdown.
func (s *Service) Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	bc := backoff.DefaultConfig
	bc.MaxDelay = 5 * time.Second
	cc, err := grpc.NewClient(target, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 2 * time.Second}),
		grpc.WithChainUnaryInterceptor(s.clientMetrics.UnaryClientInterceptor()),
		grpc.WithChainStreamInterceptor(s.clientMetrics.StreamClientInterceptor()),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", s.Name, target, err)
	}
	s.mu.Lock()
	s.conns = append(s.conns, cc)
	s.mu.Unlock()
	return cc, nil
}

// ReadyWhen adds a readiness check; /readyz answers 200 only when all pass.
func (s *Service) ReadyWhen(check func(context.Context) error) {
	s.mu.Lock()
	s.checks = append(s.checks, check)
	s.mu.Unlock()
}

func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	checks := append([]func(context.Context) error(nil), s.checks...)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, c := range checks {
		if err := c(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	io.WriteString(w, "ready\n")
}

// Start listens on the HTTP and gRPC ports and serves in the background.
func (s *Service) Start() error {
	var err error
	if s.httpLn, err = net.Listen("tcp", s.opts.HTTPAddr); err != nil {
		return fmt.Errorf("%s: http: %w", s.Name, err)
	}
	if s.GRPC != nil {
		if s.grpcLn, err = net.Listen("tcp", s.opts.GRPCAddr); err != nil {
			s.httpLn.Close()
			return fmt.Errorf("%s: grpc: %w", s.Name, err)
		}
		s.serverMetrics.InitializeMetrics(s.GRPC)
	}
	s.serveErrs = make(chan error, 2)
	// HTTP/2 with prior knowledge too: clients and proxies in front of the
	// gateway may speak h2c, as they do to real gateways.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.httpSrv = &http.Server{Handler: s.Mux, ReadHeaderTimeout: 10 * time.Second, Protocols: &protocols}
	go func() { s.serveErrs <- ignoreClosed(s.httpSrv.Serve(s.httpLn)) }()
	if s.GRPC != nil {
		go func() { s.serveErrs <- s.GRPC.Serve(s.grpcLn) }()
	}
	s.ready.Store(true)
	s.Log.Info("serving", "http", s.HTTPAddr(), "grpc", s.GRPCAddr())
	return nil
}

// HTTPAddr is the HTTP listener's address once started.
func (s *Service) HTTPAddr() string {
	if s.httpLn == nil {
		return ""
	}
	return s.httpLn.Addr().String()
}

// GRPCAddr is the gRPC listener's address once started.
func (s *Service) GRPCAddr() string {
	if s.grpcLn == nil {
		return ""
	}
	return s.grpcLn.Addr().String()
}

// Shutdown stops serving gracefully within ctx, then closes client
// connections. It is safe without Start.
func (s *Service) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	if s.httpSrv != nil {
		errs = append(errs, s.httpSrv.Shutdown(ctx))
	}
	if s.GRPC != nil {
		done := make(chan struct{})
		go func() { s.GRPC.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.GRPC.Stop()
			<-done
		}
	}
	s.mu.Lock()
	for _, cc := range s.conns {
		errs = append(errs, cc.Close())
	}
	s.conns = nil
	s.mu.Unlock()
	s.Log.Info("stopped")
	return errors.Join(errs...)
}

// Run starts the service and serves until ctx ends or a listener fails,
// then shuts down within ten seconds.
func (s *Service) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.serveErrs:
		s.Log.Error("listener failed", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, s.Shutdown(sctx))
}

// Main runs a service's run function with a context cancelled on SIGINT or
// SIGTERM and exits with 0, 2 for bad flags, or 1.
func Main(run func(ctx context.Context, args []string, stdout io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case strings.Contains(err.Error(), "flag"):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ConnReady is a readiness check that passes once the connection to a
// dependency is up; it suits dependencies without a cheap read-only RPC to
// probe (the sequencer).
func ConnReady(name string, cc *grpc.ClientConn) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			state := cc.GetState()
			switch state {
			case connectivity.Ready:
				return nil
			case connectivity.Idle:
				cc.Connect()
			case connectivity.TransientFailure, connectivity.Shutdown:
				return fmt.Errorf("%s at %s: %s", name, cc.Target(), state)
			}
			if !cc.WaitForStateChange(ctx, state) {
				return fmt.Errorf("%s at %s: %s: %w", name, cc.Target(), state, ctx.Err())
			}
		}
	}
}
