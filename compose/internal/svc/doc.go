// Package svc is the lifecycle every stack service shares: flags with
// environment defaults, JSON logs via slog, a Prometheus registry with RED,
// gRPC server and client metrics, /healthz, /readyz and /metrics on the HTTP
// port, and graceful shutdown.
package svc
