// Package stack defines the one interface every staging-stack driver
// implements (up, down, status, endpoints, logs, stats, faults), for its users:
// the replayer, the observers and the CLI. Drivers live in sub-packages and
// register themselves as extensions in the "stacks" namespace.
package stack
