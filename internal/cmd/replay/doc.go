// Package replay is the `reprise replay` verb: it plans a recording,
// checks that the target is a staging target, replays it with the
// open-model executor of harness/replay and prints the run's summary.
// The logic lives in harness/replay; this package only parses flags.
package replay
