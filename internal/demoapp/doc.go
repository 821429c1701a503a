// Package demoapp is a tiny in-process game API (login, market, missions)
// and a seeded population that drives it, for end-to-end tests that need a
// lightweight upstream in the same process (the CLI scripts). The reference
// staging stack lives in compose/ and is what `reprise demo` runs.
package demoapp
