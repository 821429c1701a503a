// Package plan turns a recording into a replay plan: one node per exchange,
// ordering edges within a session, data-flow edges where a value first seen
// in a response is sent again in a later request, and the correlations those
// edges carry. A Schedule turns the plan into intended send times for the
// timing modes (recorded, causal, asap, rate); it is a pure library with no
// I/O and no goroutines, so an open-model executor drives it.
//
// Amplify clones every session N times under distinct identities (the user
// names, e-mails and ids the requests send, found at Build time) or, with
// Collide, under the same ones for contention; the executor applies each
// clone's static Rewrites before the live correlated values. Plans shard
// by dependency component, clones included.
//
// Building streams: per exchange the Builder keeps its node, its request's
// candidate values (interned in one byte arena) and, per value, only the
// earliest producer and earliest request, never the response occurrences.
// BuildTwoPass reads a recording twice (responses, then requests) to keep
// only request values some response issued; it makes the same plan.
package plan
