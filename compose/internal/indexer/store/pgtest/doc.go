// Package pgtest gives tests a throwaway real PostgreSQL server, started
// from the host's Debian binaries in a temporary directory on a free
// loopback port and removed when the test ends.
package pgtest
