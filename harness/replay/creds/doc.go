// Package creds supplies fresh credentials for the redaction placeholders a
// recording holds ("rpr-redacted-" + 24 hex). A Provider maps a session and a
// placeholder to a live token; Static serves a fixed map (LoadFile reads one
// from YAML or JSON) and Command asks an external program, once per key.
//
// Tokens are secrets: nothing in this package writes one to a log or puts
// one in an error; errors name the session and the placeholder only.
package creds
