package rawproto

import (
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// ErrBadWire is returned when bytes are not protobuf wire format. The
// wrapping error says what is damaged and at which byte offset.
var ErrBadWire = errors.New("rawproto: not protobuf wire format")

// MaxDepth bounds recursion into nested messages, as plan.ScanProto does: a
// message nested MaxDepth levels deep is treated as an opaque bytes field.
const MaxDepth = plan.MaxProtoDepth

// maxFieldNumber is the largest field number protobuf allows.
const maxFieldNumber = 1<<29 - 1

// leaf is one scalar the walker found: a varint, or a length-delimited field
// that is not a nested message (a string or bytes field).
type leaf struct {
	varint bool
	v      uint64
	b      []byte // aliases the input
}

// visitFunc is offered every leaf at a wanted path. It returns the leaf's new
// content and true to replace it; a varint leaf gets its new value in v.
type visitFunc func(path []uint64, l leaf) (leaf, bool, error)

// walker walks one message as plan.ScanProto does, calling visit for the
// leaves under target (every leaf when target is nil) and re-encoding the
// enclosing length prefixes of any leaf it replaces.
type walker struct {
	target []uint64
	visit  visitFunc
	path   []uint64
	// items makes every length-delimited field at the end of target a
	// leaf, whether or not its bytes parse as a message: the items of a
	// repeated field keep their positions.
	items bool
}

// walk returns data with the replacements made; when nothing changed it
// returns data itself and false. base is data's offset in the top message,
// so errors name an absolute byte offset.
func (w *walker) walk(data []byte, base, depth int) ([]byte, bool, error) {
	var out []byte
	last := 0
	for off := 0; off < len(data); {
		num, typ, n := tag(data[off:])
		if n <= 0 {
			return nil, false, wireErr(base+off, "tag")
		}
		off += n
		valueStart := off
		descend, leafHere := w.wants(depth, num)
		switch typ {
		case 0:
			v, k := binary.Uvarint(data[off:])
			if k <= 0 {
				return nil, false, wireErr(base+off, "varint")
			}
			off += k
			if !leafHere {
				continue
			}
			nl, ok, err := w.offer(depth, num, leaf{varint: true, v: v})
			if err != nil {
				return nil, false, err
			}
			if !ok || nl.v == v {
				// The same value keeps its original, possibly overlong, bytes.
				continue
			}
			out = appendPending(out, data, last, valueStart, len(data))
			out = binary.AppendUvarint(out, nl.v)
			last = off
		case 1:
			if len(data)-off < 8 {
				return nil, false, wireErr(base+off, "fixed64")
			}
			off += 8
		case 5:
			if len(data)-off < 4 {
				return nil, false, wireErr(base+off, "fixed32")
			}
			off += 4
		case 2:
			l, k := binary.Uvarint(data[off:])
			if k <= 0 || l > uint64(len(data)-off-k) {
				return nil, false, wireErr(base+off, "length")
			}
			payloadStart := off + k
			payload := data[payloadStart : payloadStart+int(l)]
			off = payloadStart + int(l)
			if !descend && !leafHere {
				continue
			}
			var repl []byte
			if plan.NestedMessage(payload, depth) && !(leafHere && w.items) {
				if !descend {
					continue // a message where a leaf is wanted
				}
				w.path = append(w.path, num)
				sub, changed, err := w.walk(payload, base+payloadStart, depth+1)
				w.path = w.path[:len(w.path)-1]
				if err != nil {
					return nil, false, err
				}
				if !changed {
					continue
				}
				repl = sub
			} else {
				if !leafHere {
					continue
				}
				nl, ok, err := w.offer(depth, num, leaf{b: payload})
				if err != nil {
					return nil, false, err
				}
				if !ok || string(nl.b) == string(payload) {
					continue
				}
				repl = nl.b
			}
			out = appendPending(out, data, last, valueStart, len(data)+len(repl))
			if len(repl) == len(payload) {
				// Keep the original length bytes, even an overlong varint.
				out = append(out, data[valueStart:payloadStart]...)
			} else {
				out = binary.AppendUvarint(out, uint64(len(repl)))
			}
			out = append(out, repl...)
			last = off
		default:
			// Groups (3, 4) are deprecated; ScanProto treats them as damage.
			return nil, false, wireErr(base+off, "wire type "+strconv.Itoa(int(typ)))
		}
	}
	if out == nil {
		return data, false, nil
	}
	return append(out, data[last:]...), true, nil
}

// wants reports whether field num at depth, as a nested message, can hold
// wanted leaves, and whether as a leaf it is one.
func (w *walker) wants(depth int, num uint64) (descend, leafHere bool) {
	if w.target == nil {
		return true, true
	}
	if depth >= len(w.target) || w.target[depth] != num {
		return false, false
	}
	last := depth == len(w.target)-1
	return !last, last
}

func (w *walker) offer(depth int, num uint64, l leaf) (leaf, bool, error) {
	w.path = append(w.path, num)
	defer func() { w.path = w.path[:depth] }()
	return w.visit(w.path, l)
}

// appendPending starts out on the first change and copies the unchanged
// bytes since the previous change, up to upTo.
func appendPending(out, data []byte, last, upTo, sizeHint int) []byte {
	if out == nil {
		out = make([]byte, 0, sizeHint+16)
	}
	return append(out, data[last:upTo]...)
}

func tag(b []byte) (num uint64, typ uint8, n int) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, n
	}
	num = v >> 3
	if num == 0 || num > maxFieldNumber {
		return 0, 0, -1
	}
	return num, uint8(v & 7), n
}

func wireErr(off int, what string) error {
	return &WireError{Offset: off, What: what}
}

// WireError is a damaged spot in a message. It matches ErrBadWire with
// errors.Is.
type WireError struct {
	// Offset is the byte offset of the damage from the start of the message.
	Offset int
	// What names what could not be decoded: "tag", "varint", "length", ...
	What string
}

func (e *WireError) Error() string {
	return ErrBadWire.Error() + ": bad " + e.What + " at byte " + strconv.Itoa(e.Offset)
}

func (e *WireError) Unwrap() error { return ErrBadWire }
