// Package root assembles the reprise command tree from the per-verb packages
// and runs it, returning the process exit code.
package root
