package plan

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// ErrBadWire is returned by ScanProto when bytes are not protobuf wire format.
var ErrBadWire = errors.New("plan: not protobuf wire format")

// maxProtoDepth bounds recursion into nested messages; real schemas rarely
// nest past a handful of levels, and a hostile input must not blow the stack.
const maxProtoDepth = 16

// ProtoField is one scalar found by ScanProto.
type ProtoField struct {
	// Path is the dotted field numbers from the top message, e.g. "1.3.2".
	Path string
	// Varint is set when the field is a varint (wire type 0); Bytes is nil then.
	Varint   uint64
	IsVarint bool
	// Bytes is a length-delimited field that is not itself a message: a
	// string or a bytes field. It aliases the input.
	Bytes []byte
}

// ScanProto walks data as protobuf wire format without a schema and calls fn
// for every varint and every length-delimited field that does not parse as a
// nested message. Printable UTF-8 is always taken as a string, even when it
// would also parse as a message, because short text often does by accident;
// a nested message made only of printable bytes is therefore reported whole.
// Fixed 32/64-bit fields are skipped (they are floats or hashes far more
// often than identifiers). Fields before a malformed spot are still
// reported; the error says where the damage is.
func ScanProto(data []byte, fn func(ProtoField)) error {
	return scanProto(data, "", 0, fn)
}

func scanProto(data []byte, prefix string, depth int, fn func(ProtoField)) error {
	for off := 0; off < len(data); {
		num, typ, n := protoTag(data[off:])
		if n <= 0 {
			return wireErr(off, "tag")
		}
		off += n
		path := strconv.FormatUint(num, 10)
		if prefix != "" {
			path = prefix + "." + path
		}
		switch typ {
		case 0:
			v, k := binary.Uvarint(data[off:])
			if k <= 0 {
				return wireErr(off, "varint")
			}
			off += k
			fn(ProtoField{Path: path, Varint: v, IsVarint: true})
		case 1:
			if len(data)-off < 8 {
				return wireErr(off, "fixed64")
			}
			off += 8
		case 5:
			if len(data)-off < 4 {
				return wireErr(off, "fixed32")
			}
			off += 4
		case 2:
			l, k := binary.Uvarint(data[off:])
			if k <= 0 || l > uint64(len(data)-off-k) {
				return wireErr(off, "length")
			}
			off += k
			payload := data[off : off+int(l)]
			off += int(l)
			if NestedMessage(payload, depth) {
				// validProto has checked the whole payload, so this cannot fail.
				_ = scanProto(payload, path, depth+1, fn)
				continue
			}
			fn(ProtoField{Path: path, Bytes: payload})
		default:
			// Groups (3, 4) are deprecated and never emitted by modern
			// encoders; treating them as damage keeps the scanner simple.
			return wireErr(off, "wire type "+strconv.Itoa(int(typ)))
		}
	}
	return nil
}

// protoTag decodes a field tag; n <= 0 means malformed.
func protoTag(b []byte) (num uint64, typ uint8, n int) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, n
	}
	num = v >> 3
	if num == 0 || num > 1<<29-1 {
		return 0, 0, -1
	}
	return num, uint8(v & 7), n
}

// MaxProtoDepth is how deep ScanProto descends into nested messages.
const MaxProtoDepth = maxProtoDepth

// NestedMessage is the test ScanProto applies to a length-delimited payload
// found at depth: it is read as a nested message when it is not empty, not
// printable text, parses completely as one message, and lies within the
// depth limit. rawproto applies the same test, so both name fields alike.
func NestedMessage(payload []byte, depth int) bool {
	return depth+1 < maxProtoDepth && len(payload) > 0 && !Printable(payload) && validProto(payload, depth+1)
}

// ParsesAsMessage reports whether payload, found at depth, parses
// completely as one message within the depth limit, printable or not. A
// printable payload that does is a string to the planner (NestedMessage),
// but may be a message whose one string field happens to be printable
// together with its tag and length ({4: "<32 hex digits>"} reads as
// "\" 0123..."): rawproto rewrites a value inside it as the message.
func ParsesAsMessage(payload []byte, depth int) bool {
	return depth+1 < maxProtoDepth && len(payload) > 0 && validProto(payload, depth+1)
}

// validProto reports whether data parses completely as a message.
func validProto(data []byte, depth int) bool {
	for off := 0; off < len(data); {
		_, typ, n := protoTag(data[off:])
		if n <= 0 {
			return false
		}
		off += n
		switch typ {
		case 0:
			_, k := binary.Uvarint(data[off:])
			if k <= 0 {
				return false
			}
			off += k
		case 1:
			off += 8
		case 5:
			off += 4
		case 2:
			l, k := binary.Uvarint(data[off:])
			if k <= 0 || l > uint64(len(data)-off-k) {
				return false
			}
			off += k + int(l)
		default:
			return false
		}
		if off > len(data) {
			return false
		}
	}
	return depth <= maxProtoDepth
}

// Printable reports whether b is valid UTF-8 without control characters:
// a string to the planner, never a nested message.
func Printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func wireErr(off int, what string) error {
	return &wireError{off: off, what: what}
}

type wireError struct {
	off  int
	what string
}

func (e *wireError) Error() string {
	return ErrBadWire.Error() + ": bad " + e.what + " at byte " + strconv.Itoa(e.off)
}

func (e *wireError) Unwrap() error { return ErrBadWire }
