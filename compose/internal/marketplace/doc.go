// Package marketplace is the stack's gRPC Marketplace: a seeded catalogue of
// items, player balances, and Buy, which debits, transfers and submits a
// "buy" transaction to the sequencer. Its check-and-act is atomic unless the
// seeded fault FAULT_BUY_RACE turns it into a real check-then-act race.
package marketplace
