// Package indexer follows the sequencer's block stream into a database and
// answers the gateway's inventory and history questions from it. It
// resumes after its last stored block whenever the stream breaks, so a
// sequencer restart costs neither gaps nor duplicates. A sequencer that
// comes back on another chain (it kept no data dir), or no longer holds the
// next block, makes it reset its store and follow the chain from the start.
package indexer
