package plan

import (
	"hash/maphash"
	"strconv"
	"testing"
)

// TestIndexInterns checks the arena index through several rehashes: ids are
// dense in first-seen order, equal strings and byte slices share an id, and
// every value reads back unchanged.
func TestIndexInterns(t *testing.T) {
	ix := index{seed: maphash.MakeSeed()}
	const n = 5000
	for i := range n {
		s := "value-" + strconv.Itoa(i*7919)
		if got, ok := ix.value(s); !ok || got != uint32(i) {
			t.Fatalf("value(%q) = %d, want %d", s, got, i)
		}
	}
	if ix.count() != n {
		t.Fatalf("count = %d, want %d", ix.count(), n)
	}
	for i := range n {
		s := "value-" + strconv.Itoa(i*7919)
		if got, ok := ix.valueBytes([]byte(s)); !ok || got != uint32(i) {
			t.Fatalf("valueBytes(%q) = %d, want %d", s, got, i)
		}
		if got := ix.str(uint32(i)); got != s {
			t.Fatalf("str(%d) = %q, want %q", i, got, s)
		}
	}
	if id, _ := ix.value(""); id != n || ix.str(n) != "" {
		t.Fatalf("empty value: id %d", id)
	}
	if again, _ := ix.value(""); again != n || ix.count() != n+1 {
		t.Fatalf("empty value again: id %d, count %d", again, ix.count())
	}
	// Frozen, the index finds what it holds and adds nothing.
	ix.frozen = true
	if id, ok := ix.value("value-0"); !ok || id != 0 {
		t.Fatalf("frozen value(value-0) = %d, %v", id, ok)
	}
	if _, ok := ix.valueBytes([]byte("never-seen")); ok || ix.count() != n+1 {
		t.Fatalf("frozen index added a value: count %d", ix.count())
	}
}
