package timeshift

import (
	"encoding/json"
	"time"
)

// Margin widens the recording's span on both sides: a value is moved when
// its instant lies within [from-Margin, to+Margin]. An hour covers tokens and
// bookings that a recorded request dates a little before or after the
// traffic itself, yet keeps birthdays, IDs and counters out.
const Margin = time.Hour

// MaxBody is the largest body JSON rewrites; bigger ones are left alone.
const MaxBody = 1 << 20

// JSON moves by delta every timestamp leaf of a JSON document whose instant
// falls within [from-Margin, to+Margin], and returns the new body and how
// many values it moved. A timestamp leaf is either
//
//   - a string that is exactly an RFC 3339 date-time, 'T', 't' or ' ' between
//     date and time, with 0 to 9 fraction digits and with 'Z', 'z', a ±hh:mm
//     offset or no zone at all (read as UTC); the result keeps the separator,
//     the number of fraction digits and the zone as written; or
//   - a non-negative number, integer or decimal without exponent, read as
//     unix seconds, milliseconds, microseconds or nanoseconds (the first unit
//     that lands in the window wins); the result keeps the unit and the
//     number of fraction digits.
//
// delta is rounded to each value's precision, so a value never gains digits.
// Keys, strings with escapes and all other bytes are kept as they are: the
// body is rewritten in place by token offsets, never re-marshalled. A body
// that is not valid JSON or is bigger than MaxBody, a zero delta, or a
// window with to before from all return body itself and 0. body is never
// modified; when something moved, out is a new slice.
func JSON(body []byte, delta time.Duration, from, to time.Time) (out []byte, n int) {
	if delta == 0 || len(body) > MaxBody || to.Before(from) || !json.Valid(body) {
		return body, 0
	}
	w := window{lo: from.Add(-Margin), hi: to.Add(Margin)}
	var buf []byte
	last := 0
	scanLeaves(body, func(start, end int, isString bool) {
		var repl []byte
		if isString {
			repl = shiftRFC3339(body[start+1:end-1], delta, w)
			if repl != nil {
				repl = append(append([]byte{'"'}, repl...), '"')
			}
		} else {
			repl = shiftUnix(body[start:end], delta, w)
		}
		if repl == nil {
			return
		}
		if buf == nil {
			buf = make([]byte, 0, len(body)+16)
		}
		buf = append(buf, body[last:start]...)
		buf = append(buf, repl...)
		last = end
		n++
	})
	if n == 0 {
		return body, 0
	}
	return append(buf, body[last:]...), n
}

type window struct{ lo, hi time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.lo) && !t.After(w.hi) }

// scanLeaves calls leaf for every string value (not key) and number of a
// document that json.Valid accepted; [start,end) spans the token, quotes
// included for strings. It relies on that validity and does no checking.
func scanLeaves(b []byte, leaf func(start, end int, isString bool)) {
	// inObject[i] tells whether nesting level i is an object; expectKey is
	// true right after '{' or after ',' inside an object.
	var inObject []bool
	expectKey := false
	for i := 0; i < len(b); {
		switch c := b[i]; c {
		case '{':
			inObject = append(inObject, true)
			expectKey = true
			i++
		case '[':
			inObject = append(inObject, false)
			expectKey = false
			i++
		case '}', ']':
			inObject = inObject[:len(inObject)-1]
			expectKey = false
			i++
		case ',':
			expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
			i++
		case ':':
			expectKey = false
			i++
		case '"':
			j := i + 1
			for b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			j++
			if !expectKey {
				leaf(i, j, true)
			}
			i = j
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			j := i + 1
			for j < len(b) && isNumberByte(b[j]) {
				j++
			}
			leaf(i, j, false)
			i = j
		default: // white space and the letters of true, false, null
			i++
		}
	}
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}
