// Command fakesvc stands in for any reference service in the local driver's
// own tests: it serves /readyz and a minimal gateway API on HTTP_ADDR, logs
// slog JSON, and obeys FAKE_NEVER_READY=<name> to test Up's failure paths.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	name := filepath.Base(os.Args[0])
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", name)
	ready := os.Getenv("FAKE_NEVER_READY") != name
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /v1/login", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"token":"t","player_id":"p"}`))
	})
	mux.HandleFunc("GET /v1/items", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"items":[{"id":1,"name":"sword","price":10,"owner":""}]}`))
	})
	srv := &http.Server{Addr: os.Getenv("HTTP_ADDR"), Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Info("listening", "addr", srv.Addr, "grpc", os.Getenv("GRPC_ADDR"), "db", os.Getenv("INDEXER_DB"))
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	log.Info("stopped")
}
