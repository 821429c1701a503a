// Package stack is the `reprise stack` verb: bring the reference staging
// stack up with a driver (local processes or Docker containers), show its
// status and follow its logs, then tear it down. The logic lives in
// harness/stack; this package only parses flags and prints.
package stack
