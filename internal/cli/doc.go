// Package cli holds what every Reprise command shares: the injected I/O
// streams and the single mapping from errors to process exit codes.
package cli
