// Package replay is the home of the replayer: it re-drives a recording
// against a staging stack, keeping the causality between requests rather
// than only their timestamps. The planning core lives in replay/plan; this
// package is the open-model executor, the HTTP driver, the live
// re-correlation of issued values and the measurement that ends in a run
// directory (results.rpr, summary.json, plan.json).
package replay
