// Package missions is the stack's gRPC Missions service: per-player mission
// progress that Advance moves one step at a time, with a best-effort
// "mission" transaction to the sequencer. Advance is atomic unless the
// seeded fault FAULT_LOST_UPDATE makes it an unlocked read-modify-write.
package missions
