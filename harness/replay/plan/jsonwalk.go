package plan

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// JSON leaf walking. jsonWalker.walk yields the same leaves, with the same paths
// and in the same order, as driving encoding/json's Decoder.Token (with
// UseNumber) over the document and stopping at its first error, but it
// allocates nothing for a document without escapes except the strings it
// hands out. That is where planning spent most of its time: Decoder.Token
// boxes every token and builds an error value to end every scalar.
//
// The token rules it mirrors: whitespace is space, tab, CR and LF; after a
// complete top-level value another may follow (NDJSON, or any concatenation);
// a scalar is complete once its last byte is read, whatever follows, so a
// document cut off after a complete leaf still yields it; a string may not
// hold control bytes and its escapes must be valid; a number follows the
// JSON grammar; true, false and null count as values but are not leaves.

// Decoder.Token's states.
const (
	jsTop = iota
	jsArrayStart
	jsArrayValue
	jsArrayComma
	jsObjectStart
	jsObjectKey
	jsObjectColon
	jsObjectValue
	jsObjectComma
)

// maxKeyCache bounds the object keys one walker keeps for reuse.
const maxKeyCache = 4096

// jsonWalker walks documents; its frame stack and key cache are reused
// from one document to the next.
type jsonWalker struct {
	st   []jsonFrame
	keys map[string]string
}

// walk calls leaf for every string and number value of data, with the
// open containers above it (st is only valid during the call) and the
// leaf's bytes, data[start:end] (a string's quotes included). Strings are
// unescaped as encoding/json does, invalid UTF-8 replaced by U+FFFD;
// numbers are their literal text.
func (w *jsonWalker) walk(data []byte, leaf func(st []jsonFrame, v string, number bool, start, end int)) {
	st := w.st[:0]
	defer func() { w.st = st[:0] }()
	state := jsTop
	i := 0
	for {
		for i < len(data) && isJSONSpace(data[i]) {
			i++
		}
		if i >= len(data) {
			return
		}
		c := data[i]
		switch {
		case c == '[' || c == '{':
			if !jsonValueAllowed(state) {
				return
			}
			i++
			st = append(st, jsonFrame{array: c == '[', wantKey: c == '{'})
			state = jsArrayStart
			if c == '{' {
				state = jsObjectStart
			}
			continue
		case c == ']':
			if state != jsArrayStart && state != jsArrayComma {
				return
			}
			i++
			st = st[:len(st)-1]
		case c == '}':
			if state != jsObjectStart && state != jsObjectComma {
				return
			}
			i++
			st = st[:len(st)-1]
		case c == ':':
			if state != jsObjectColon {
				return
			}
			i++
			state = jsObjectValue
			continue
		case c == ',':
			switch state {
			case jsArrayComma:
				state = jsArrayValue
			case jsObjectComma:
				state = jsObjectKey
			default:
				return
			}
			i++
			continue
		case c == '"' && (state == jsObjectStart || state == jsObjectKey):
			n, plain := scanJSONString(data[i:])
			if n < 0 {
				return
			}
			st[len(st)-1].key, st[len(st)-1].wantKey = w.key(data[i:i+n], plain), false
			i += n
			state = jsObjectColon
			continue
		default:
			if !jsonValueAllowed(state) {
				return
			}
			switch {
			case c == '"':
				n, plain := scanJSONString(data[i:])
				if n < 0 {
					return
				}
				leaf(st, unquoteJSON(data[i:i+n], plain), false, i, i+n)
				i += n
			case c == '-' || ('0' <= c && c <= '9'):
				n := scanJSONNumber(data[i:])
				if n < 0 {
					return
				}
				leaf(st, string(data[i:i+n]), true, i, i+n)
				i += n
			default:
				n := scanJSONLiteral(data[i:])
				if n < 0 {
					return
				}
				i += n
			}
		}
		// A value (scalar or closed container) is complete.
		state = jsTop
		if n := len(st); n > 0 {
			if st[n-1].array {
				st[n-1].index++
				state = jsArrayComma
			} else {
				st[n-1].wantKey = true
				state = jsObjectComma
			}
		}
	}
}

// JSONLeaf is a string or number leaf of a JSON document, as WalkJSON
// yields it.
type JSONLeaf struct {
	// Value is a string's value, unescaped, or a number's literal text.
	Value  string
	Number bool
	// Start and End delimit the leaf's bytes in the document, a string's
	// quotes included.
	Start, End int

	st []jsonFrame
}

// Path is the leaf's path as the planner writes it in a PartJSON or
// PartWebSocket Location ("$.items[2].id").
func (l *JSONLeaf) Path() string { return jsonPath(l.st) }

// AppendPath appends Path to b, so that a caller comparing many leaves'
// paths can reuse one buffer.
func (l *JSONLeaf) AppendPath(b []byte) []byte {
	b = append(b, '$')
	for _, f := range l.st {
		if f.array {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(f.index), 10)
			b = append(b, ']')
		} else {
			b = append(b, '.')
			b = append(b, f.key...)
		}
	}
	return b
}

// WalkJSON calls fn with every string and number leaf of data, in document
// order, exactly as the planner finds them: data must start (after
// whitespace) with an object or an array; further documents may follow
// (NDJSON), and a document cut short yields its leading leaves. The leaf
// is only valid during the call.
func WalkJSON(data []byte, fn func(l *JSONLeaf)) {
	first := bytes.TrimLeft(data, " \t\r\n")
	if len(first) == 0 || (first[0] != '{' && first[0] != '[') {
		return
	}
	skip := len(data) - len(first)
	var w jsonWalker
	var l JSONLeaf
	w.walk(first, func(st []jsonFrame, v string, number bool, start, end int) {
		l = JSONLeaf{Value: v, Number: number, Start: skip + start, End: skip + end, st: st}
		fn(&l)
	})
}

// key returns the unquoted key q, shared with earlier equal keys.
func (w *jsonWalker) key(q []byte, plain bool) string {
	if !plain {
		return unquoteJSON(q, false)
	}
	raw := q[1 : len(q)-1]
	if k, ok := w.keys[string(raw)]; ok {
		return k
	}
	k := string(raw)
	if w.keys == nil {
		w.keys = make(map[string]string)
	}
	if len(w.keys) < maxKeyCache {
		w.keys[k] = k
	}
	return k
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func jsonValueAllowed(state int) bool {
	switch state {
	case jsTop, jsArrayStart, jsArrayValue, jsObjectValue:
		return true
	}
	return false
}

// scanJSONString returns the length of the string literal at the start of
// b (quotes included), or -1 when it is invalid or unterminated; plain is
// true when it holds no escape and only ASCII, so that its bytes are its
// value.
func scanJSONString(b []byte) (n int, plain bool) {
	plain = true
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, plain
		case c < 0x20:
			return -1, false
		case c >= utf8.RuneSelf:
			plain = false
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return -1, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1, false
					}
				}
				i += 4
			default:
				return -1, false
			}
		}
	}
	return -1, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquoteJSON returns the value of a valid string literal q.
func unquoteJSON(q []byte, plain bool) string {
	if plain {
		return string(q[1 : len(q)-1])
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "" // unreachable: q was scanned as valid
	}
	return s
}

// scanJSONNumber returns the length of the number at the start of b, or
// -1 when it breaks the grammar before it could end.
func scanJSONNumber(b []byte) int {
	i := 0
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	return i
}

// scanJSONLiteral returns the length of true, false or null at the start
// of b, or -1.
func scanJSONLiteral(b []byte) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(b) >= len(lit) && string(b[:len(lit)]) == lit {
			return len(lit)
		}
	}
	return -1
}
