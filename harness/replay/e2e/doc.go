// Package e2e holds the replayer's end-to-end tests against the reference
// stack (no library code). Each test records fresh tester traffic through
// the recording proxy against one local stack, then replays it with the
// library API (plan.BuildSeq, Schedule, replay.LoadExchanges, replay.Run)
// against a new stack with its own data directory, so no player, order or
// chain state of the recording run can leak into the replay, and asserts on
// results.rpr and on what the new stack holds. They start real processes
// and are skipped with -short.
package e2e
