// Package compose is the Docker stack driver ("stacks.compose"): it runs the
// reference stack, PostgreSQL and Prometheus as containers on one network
// through testcontainers-go, from images built locally by `make images`
// (it never pulls). Every container and network it creates carries the label
// dev.reprise.stack=<id>, so a later command finds, inspects and removes
// the stack by label alone.
package compose
