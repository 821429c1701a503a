// Package replay is the home of the replayer: it re-drives a recording
// against a staging stack, keeping the causality between requests rather
// than only their timestamps. The planning core lives in replay/plan; this
// package is the open-model executor, the live re-correlation of issued
// values (HTTP, gRPC messages, WebSocket frames) and the measurement that
// ends in a run directory (results.rpr, summary.json, plan.json). Each
// protocol is sent by the protocol.Driver its codec registers: a program
// that replays must link the codecs in (import extensions/standard).
package replay
