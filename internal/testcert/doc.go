// Package testcert makes short-lived certificates for tests that serve TLS
// on loopback: one self-signed certificate for 127.0.0.1 and localhost,
// as tls.Config halves, a pool that trusts it, or PEM files.
package testcert
