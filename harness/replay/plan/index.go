package plan

import (
	"hash/maphash"
)

// index interns values and locations so that each distinct string is held
// once, whatever the number of exchanges that carry it.
//
// Values are the bulk of a planner's memory on a large recording (every
// distinct id, token and path any exchange carries), so they are not Go
// strings in a map: their bytes sit end to end in one arena and an
// open-addressing table of (hash, id) words finds them, about 12 to 20
// bytes per value beside its own bytes instead of some 80. Ids are dense and
// given in first-seen order.
type index struct {
	rule valueRule
	seed maphash.Seed

	arena []byte
	offs  []int    // value i is arena[offs[i]:offs[i+1]]; offs[0] is 0 once used
	table []uint64 // hash<<32 | id+1; 0 is empty; a power of two long

	// frozen: value finds values but adds none (the requests pass of
	// BuildTwoPass: a value no response issued cannot be a correlation).
	frozen bool

	locs   map[Location]uint32
	locArr []Location
}

// count is the number of values interned.
func (ix *index) count() int { return max(len(ix.offs)-1, 0) }

// bytesOf is value id's bytes; they alias the arena until it grows.
func (ix *index) bytesOf(id uint32) []byte { return ix.arena[ix.offs[id]:ix.offs[id+1]] }

// str returns value id as a new string.
func (ix *index) str(id uint32) string { return string(ix.bytesOf(id)) }

// value returns the id of s, interning it on first sight unless the
// index is frozen (ok is then false for a value not seen before). s may
// alias a header or body: its bytes are copied.
func (ix *index) value(s string) (id uint32, ok bool) {
	h := maphash.String(ix.seed, s)
	slot, found := ix.find(h, func(id uint32) bool { return string(ix.bytesOf(id)) == s })
	switch {
	case found:
		return uint32(ix.table[slot]) - 1, true
	case ix.frozen:
		return 0, false
	}
	ix.arena = append(ix.arena, s...)
	return ix.insert(slot, h), true
}

func (ix *index) valueBytes(b []byte) (id uint32, ok bool) {
	h := maphash.Bytes(ix.seed, b)
	slot, found := ix.find(h, func(id uint32) bool { return string(ix.bytesOf(id)) == string(b) })
	switch {
	case found:
		return uint32(ix.table[slot]) - 1, true
	case ix.frozen:
		return 0, false
	}
	ix.arena = append(ix.arena, b...)
	return ix.insert(slot, h), true
}

// find probes for hash h; it returns the slot holding the value eq accepts,
// or the empty slot where it belongs.
func (ix *index) find(h uint64, eq func(id uint32) bool) (slot int, found bool) {
	if len(ix.table) == 0 {
		ix.table = make([]uint64, 64)
		ix.offs = append(ix.offs[:0], 0)
	}
	mask := len(ix.table) - 1
	tag := h >> 32
	for i := int(h) & mask; ; i = (i + 1) & mask {
		w := ix.table[i]
		if w == 0 {
			return i, false
		}
		if w>>32 == tag && eq(uint32(w)-1) {
			return i, true
		}
	}
}

// insert records the value just appended to the arena at slot, growing
// the table past three quarters full.
func (ix *index) insert(slot int, h uint64) uint32 {
	id := uint32(ix.count())
	ix.offs = append(ix.offs, len(ix.arena))
	ix.table[slot] = h>>32<<32 | uint64(id+1)
	if (ix.count())*4 > len(ix.table)*3 {
		ix.rehash()
	}
	return id
}

func (ix *index) rehash() {
	t := make([]uint64, len(ix.table)*2)
	mask := len(t) - 1
	for id := range ix.count() {
		h := maphash.Bytes(ix.seed, ix.bytesOf(uint32(id)))
		i := int(h) & mask
		for t[i] != 0 {
			i = (i + 1) & mask
		}
		t[i] = h>>32<<32 | uint64(id+1)
	}
	ix.table = t
}

func (ix *index) location(l Location) uint32 {
	if id, ok := ix.locs[l]; ok {
		return id
	}
	id := uint32(len(ix.locArr))
	ix.locs[l] = id
	ix.locArr = append(ix.locArr, l)
	return id
}
