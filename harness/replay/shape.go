package replay

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"hash/maphash"
	"slices"
	"sync"
)

// maxShapeDepth is encoding/json's nesting limit: a deeper document is not
// JSON to jsonShape, and so not to the scanner either.
const maxShapeDepth = 10000

// shapeHash is the FNV-1a 64 hash of jsonShape(data) when ok, computed by a
// scanner over the bytes that builds the same canonical shape in reused
// buffers instead of decoding into maps: no allocation once the pooled
// buffers have grown (object keys with escapes or non-ASCII bytes are
// decoded by encoding/json, which allocates). It accepts and rejects the
// same documents as jsonShape: the first JSON value after leading space,
// which must be an object or an array; what follows it is ignored.
func shapeHash(data []byte) (uint64, bool) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return 0, false
	}
	s := shaperPool.Get().(*shaper)
	defer shaperPool.Put(s)
	s.reset(t)
	if !s.value() {
		if !s.over {
			return 0, false
		}
		// A deep document whose shape is large makes every level move its
		// members' shapes: past the budget, decode it instead.
		sh, ok := jsonShape(t)
		if !ok {
			return 0, false
		}
		return fnvHash([]byte(sh)), true
	}
	return fnvHash(s.out), true
}

func fnvHash(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// bodySeed keys the body digests compared by diffResponse's fast path; they
// never leave the process.
var bodySeed = maphash.MakeSeed()

func bodyDigest(b []byte) uint64 { return maphash.Bytes(bodySeed, b) }

var shaperPool = sync.Pool{New: func() any { return &shaper{} }}

// shaper writes a document's canonical shape (jsonShape's string) to out.
// A composite value's members are first written one after the other; at its
// end they are sorted, deduplicated and joined after them, and the result
// is moved down to where the value started.
type shaper struct {
	data  []byte
	pos   int
	depth int
	// moved counts the bytes composites moved; past budget the scan gives
	// up (over) so that its cost stays linear in the document.
	moved, budget int
	over          bool
	out           []byte   // shapes being built
	keys          []byte   // decoded keys of the objects being scanned
	mems          []member // members of the composites being scanned
}

// member is an object member (key keys[k0:k1]) or an array element, whose
// shape is out[s0:s1].
type member struct{ k0, k1, s0, s1 int }

func (s *shaper) reset(data []byte) {
	s.data, s.pos, s.depth = data, 0, 0
	s.moved, s.budget, s.over = 0, 8*len(data)+64<<10, false
	s.out, s.keys, s.mems = s.out[:0], s.keys[:0], s.mems[:0]
}

func (s *shaper) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value at pos (after white space) and appends its shape.
func (s *shaper) value() bool {
	s.ws()
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		if _, ok := s.str(); !ok {
			return false
		}
		s.out = append(s.out, 's')
	case c == 't':
		return s.literal("true", "b")
	case c == 'f':
		return s.literal("false", "b")
	case c == 'n':
		return s.literal("null", "null")
	case c == '-' || (c >= '0' && c <= '9'):
		if !s.number() {
			return false
		}
		s.out = append(s.out, 'n')
	default:
		return false
	}
	return true
}

func (s *shaper) literal(word, shape string) bool {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(word)) {
		return false
	}
	s.pos += len(word)
	s.out = append(s.out, shape...)
	return true
}

// number scans JSON's number grammar; the byte after it is the caller's.
func (s *shaper) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.pos = i
	return true
}

// str scans a string at pos ('"'); plain is false when it holds an escape
// or a non-ASCII byte, so that its decoded form differs from its bytes.
func (s *shaper) str() (plain, ok bool) {
	d := s.data
	plain = true
	for i := s.pos + 1; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return plain, true
		case c < 0x20:
			return false, false
		case c >= 0x80:
			plain = false
		case c == '\\':
			plain = false
			i++
			if i >= len(d) {
				return false, false
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) {
					return false, false
				}
				for _, h := range d[i+1 : i+5] {
					if !isHex(h) {
						return false, false
					}
				}
				i += 4
			default:
				return false, false
			}
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *shaper) enter() bool {
	s.depth++
	s.pos++ // '{' or '['
	return s.depth <= maxShapeDepth
}

func (s *shaper) object() bool {
	if !s.enter() {
		return false
	}
	defer s.leave()
	base, m0, k0 := len(s.out), len(s.mems), len(s.keys)
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.ws()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return false
			}
			start := s.pos
			plain, ok := s.str()
			if !ok {
				return false
			}
			kb := len(s.keys)
			if plain {
				s.keys = append(s.keys, s.data[start+1:s.pos-1]...)
			} else {
				var k string // the decoded key, as a map[string]any holds it
				if json.Unmarshal(s.data[start:s.pos], &k) != nil {
					return false
				}
				s.keys = append(s.keys, k...)
			}
			s.ws()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				return false
			}
			s.pos++
			sb := len(s.out)
			if !s.value() {
				return false
			}
			s.mems = append(s.mems, member{kb, len(s.keys), sb, len(s.out)})
			s.ws()
			if s.pos >= len(s.data) {
				return false
			}
			c := s.data[s.pos]
			s.pos++
			if c == '}' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	mems, keys := s.mems[m0:], s.keys
	// A map keeps the last of duplicate keys: sort stably, keep the last.
	slices.SortStableFunc(mems, func(a, b member) int { return bytes.Compare(keys[a.k0:a.k1], keys[b.k0:b.k1]) })
	end := len(s.out)
	s.out = append(s.out, '{')
	for i, m := range mems {
		if i+1 < len(mems) && bytes.Equal(keys[m.k0:m.k1], keys[mems[i+1].k0:mems[i+1].k1]) {
			continue
		}
		s.out = append(s.out, keys[m.k0:m.k1]...)
		s.out = append(s.out, ':')
		s.out = append(s.out, s.out[m.s0:m.s1]...)
		s.out = append(s.out, ',')
	}
	s.out = append(s.out, '}')
	return s.finish(base, end, m0, k0)
}

func (s *shaper) array() bool {
	if !s.enter() {
		return false
	}
	defer s.leave()
	base, m0 := len(s.out), len(s.mems)
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
	} else {
		for {
			sb := len(s.out)
			if !s.value() {
				return false
			}
			s.mems = append(s.mems, member{s0: sb, s1: len(s.out)})
			s.ws()
			if s.pos >= len(s.data) {
				return false
			}
			c := s.data[s.pos]
			s.pos++
			if c == ']' {
				break
			}
			if c != ',' {
				return false
			}
		}
	}
	mems, out := s.mems[m0:], s.out
	// The set of element shapes, sorted, joined by '|'.
	slices.SortFunc(mems, func(a, b member) int { return bytes.Compare(out[a.s0:a.s1], out[b.s0:b.s1]) })
	end := len(s.out)
	s.out = append(s.out, '[')
	for i, m := range mems {
		if i > 0 && bytes.Equal(s.out[m.s0:m.s1], s.out[mems[i-1].s0:mems[i-1].s1]) {
			continue
		}
		if i > 0 {
			s.out = append(s.out, '|')
		}
		s.out = append(s.out, s.out[m.s0:m.s1]...)
	}
	s.out = append(s.out, ']')
	return s.finish(base, end, m0, len(s.keys))
}

func (s *shaper) leave() { s.depth-- }

// finish moves the composite's joined shape out[end:] down to base and
// forgets its members; false when the work is over budget.
func (s *shaper) finish(base, end, m0, k0 int) bool {
	n := copy(s.out[base:], s.out[end:])
	s.out = s.out[:base+n]
	s.mems = s.mems[:m0]
	s.keys = s.keys[:k0]
	s.moved += 2 * n // joined, then moved
	if s.moved > s.budget {
		s.over = true
		return false
	}
	return true
}
