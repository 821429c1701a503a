// Package gatewaytest serves a small in-memory fake of the gateway's HTTP API
// on loopback (HTTP/1.1 and h2c) for tests of clients such as the tester
// population. It keeps the API contract of the reference stack and records
// every request, sale and NAR trace so tests can assert on them.
package gatewaytest
