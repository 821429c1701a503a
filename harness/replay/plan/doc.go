// Package plan turns a recording into a replay plan: one node per exchange,
// ordering edges within a session, data-flow edges where a value first seen
// in a response is sent again in a later request, and the correlations those
// edges carry. A Schedule turns the plan into intended send times for the
// timing modes (recorded, causal, asap, rate); it is a pure library with no
// I/O and no goroutines, so an open-model executor drives it.
package plan
