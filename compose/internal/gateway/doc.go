// Package gateway is the stack's HTTP/JSON API for game clients: login with
// HMAC-signed JWT-shaped bearer tokens, the market, missions, inventory and
// history, and NAR trace posts, all backed by the gRPC services with timeouts
// and gRPC codes mapped to HTTP statuses. The seeded fault FAULT_PANIC makes
// one rare but valid request panic.
package gateway
