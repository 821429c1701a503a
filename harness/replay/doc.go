// Package replay is the home of the replayer: it re-drives a recording
// against a staging stack, keeping the causality between requests rather
// than only their timestamps. The planning core lives in replay/plan; the
// executor and protocol drivers consume the plans it builds.
package replay
