// Package sequencer is the stack's stand-in for an L3 sequencer: it takes
// transactions into a mempool, seals them into hash-chained blocks on an
// interval and streams blocks to any number of followers. A follower that
// falls behind is cut off rather than allowed to stall block production.
package sequencer
