package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWaitsInheritKeepsEveryNewProducer: a node whose predecessor already
// waits for maxProducers producers and that adds two of its own keeps
// both (the oldest ones leave), and its predecessor's set is unchanged.
func TestWaitsInheritKeepsEveryNewProducer(t *testing.T) {
	w := waits{of: make([]int32, 3), sets: [][]int32{nil}}
	var edges []Edge
	for from := range maxProducers {
		edges = append(edges, Edge{From: int32(from + 1), To: 1, Kind: Data})
	}
	w.inherit(1, -1, edges)
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 8}, w.set(1))

	w.inherit(2, 1, []Edge{{From: 20, To: 2, Kind: Data}, {From: 0, To: 2, Kind: Order}, {From: 21, To: 2, Kind: Order | Data}})
	assert.Equal(t, []int32{3, 4, 5, 6, 7, 8, 20, 21}, w.set(2))
	assert.Equal(t, []int32{1, 2, 3, 4, 5, 6, 7, 8}, w.set(1), "the predecessor's set is shared, never written")

	w.of = append(w.of, 0)
	w.inherit(3, 2, []Edge{{From: 2, To: 3, Kind: Order}})
	assert.Equal(t, w.of[2], w.of[3], "nothing new: the predecessor's set is shared")
}
