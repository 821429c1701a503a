// Package scenarios will hold the declarative YAML replay scenarios and their
// strict loader (unknown fields rejected, Validate everywhere, path-style
// errors). It is empty until the replayer lands; see docs/architecture.md.
package scenarios
