// Package sequencer is the stack's stand-in for an L3 sequencer: it takes
// transactions into a mempool, seals them into hash-chained blocks on an
// interval and streams blocks to any number of followers. A follower that
// falls behind is cut off rather than allowed to stall block production.
// With a data dir the chain is durable (see blocklog): each block is
// fsynced before it is streamed and a restart continues the chain.
package sequencer
