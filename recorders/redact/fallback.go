package redact

import "bytes"

// scanFields is the fail-closed path for bodies that are not valid JSON
// (truncated captures, NDJSON with a bad line, JSON inside HTML or text): it
// finds `"field" : "value"` and `"field" : number` at any position and
// replaces the value. A string value cut off by the end of the body is
// replaced up to the end, so a truncated capture cannot leak a prefix of
// the secret. It returns b itself when nothing changed.
func (r *Redactor) scanFields(b []byte) []byte {
	fields := r.jsonFields
	if len(fields.names) == 0 {
		return b
	}
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			break
		}
		keyStart := i + q
		i = keyStart + 1
		// The key must close within the longest field name: no escapes here.
		limit := min(len(b), keyStart+1+fields.maxLen+1)
		ke := bytes.IndexByte(b[keyStart+1:limit], '"')
		if ke < 0 {
			continue
		}
		keyEnd := keyStart + 1 + ke
		if !fields.hasBytes(b[keyStart+1 : keyEnd]) {
			continue
		}
		j := skipSpace(b, keyEnd+1)
		if j >= len(b) || b[j] != ':' {
			continue
		}
		j = skipSpace(b, j+1)
		if j >= len(b) {
			break
		}
		var start, end int
		var secret string
		switch c := b[j]; {
		case c == '"':
			start = j
			end, secret = scanString(b, j)
		case c == '-' || c >= '0' && c <= '9':
			start, end = j, j+1
			for end < len(b) && isNumberByte(b[end]) {
				end++
			}
			secret = string(b[start:end])
		default:
			continue
		}
		i = end
		p := r.hide(secret)
		if p == secret {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(out, b[last:start]...)
		out = append(out, '"')
		out = append(out, p...)
		out = append(out, '"')
		last = end
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// scanString reads a string literal opening at b[open], to its closing
// quote or the end of b, and returns where it ends and its text (unescaped
// when it is complete and valid, raw otherwise).
func scanString(b []byte, open int) (end int, text string) {
	for k := open + 1; k < len(b); k++ {
		switch b[k] {
		case '\\':
			k++
		case '"':
			lit := b[open : k+1]
			return k + 1, unquote(lit, bytes.IndexByte(lit, '\\') >= 0)
		}
	}
	return len(b), string(b[open+1:])
}
