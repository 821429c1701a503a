// Package testers is the synthetic tester population of the reference stack:
// seeded players with behaviour and hardware profiles who drive the gateway's
// HTTP API (normally through `reprise record`) and post NAR inference traces.
// The same seed, count and mix always give the same testers and the same
// intended actions, so a population's load can be reproduced.
package testers
