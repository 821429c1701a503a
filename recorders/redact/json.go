package redact

import (
	"encoding/json"
	"errors"
)

// maxJSONDepth matches encoding/json's nesting limit, so whatever json.Valid
// accepts the scanner accepts too.
const maxJSONDepth = 10000

var errJSONSyntax = errors.New("invalid JSON")

// rewriteJSON replaces the string and number values of the keys in fields,
// at any depth, in b: one JSON value or several separated by whitespace
// (NDJSON). Only the replaced values change; keys, their order, whitespace
// and escapes elsewhere stay byte for byte. Array elements directly under a
// secret key are secret too. ok is false when b is not valid JSON, and out
// then is nil. When nothing is secret, out is b itself.
func (r *Redactor) rewriteJSON(b []byte, fields fieldSet) (out []byte, ok bool) {
	s := jsonScan{r: r, fields: fields, src: b}
	s.skipSpace()
	if s.pos == len(b) {
		return nil, false
	}
	for s.pos < len(b) {
		if err := s.value(false, 0); err != nil {
			return nil, false
		}
		s.skipSpace()
	}
	if s.out == nil {
		return b, true
	}
	return append(s.out, b[s.last:]...), true
}

// jsonScan is a validating single-pass scanner that records replacements
// as it goes rather than building a tree.
type jsonScan struct {
	r      *Redactor
	fields fieldSet
	src    []byte
	pos    int
	out    []byte // nil until the first replacement
	last   int    // src[:last] has been copied to out
}

func (s *jsonScan) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one value. secret says the value sits under a secret key.
func (s *jsonScan) value(secret bool, depth int) error {
	if depth > maxJSONDepth {
		return errJSONSyntax
	}
	s.skipSpace()
	if s.pos >= len(s.src) {
		return errJSONSyntax
	}
	switch c := s.src[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(secret, depth+1)
	case c == '"':
		start := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		if secret {
			s.replace(start, s.pos, unquote(s.src[start:s.pos], escaped))
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		start := s.pos
		if err := s.number(); err != nil {
			return err
		}
		if secret {
			s.replace(start, s.pos, string(s.src[start:s.pos]))
		}
		return nil
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errJSONSyntax
}

func (s *jsonScan) object(depth int) error {
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.src) && s.src[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '"' {
			return errJSONSyntax
		}
		start := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		var secret bool
		if escaped {
			secret = s.fields.has(unquote(s.src[start:s.pos], true))
		} else {
			secret = s.fields.hasBytes(s.src[start+1 : s.pos-1])
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != ':' {
			return errJSONSyntax
		}
		s.pos++
		if err := s.value(secret, depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.src) {
			return errJSONSyntax
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (s *jsonScan) array(secret bool, depth int) error {
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.src) && s.src[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(secret, depth); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.src) {
			return errJSONSyntax
		}
		switch s.src[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// str scans a string starting at its opening quote and leaves pos after the
// closing one. It reports whether the string holds escapes.
func (s *jsonScan) str() (escaped bool, err error) {
	s.pos++ // opening quote
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.pos+1 >= len(s.src) {
				return false, errJSONSyntax
			}
			switch s.src[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				if s.pos+6 > len(s.src) {
					return false, errJSONSyntax
				}
				for _, h := range s.src[s.pos+2 : s.pos+6] {
					if !isHex(h) {
						return false, errJSONSyntax
					}
				}
				s.pos += 6
			default:
				return false, errJSONSyntax
			}
		case c < 0x20:
			return false, errJSONSyntax
		default:
			s.pos++
		}
	}
	return false, errJSONSyntax
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jsonScan) number() error {
	if s.src[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.src) && s.src[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return errJSONSyntax
	}
	if s.pos < len(s.src) && s.src[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return errJSONSyntax
		}
	}
	if s.pos < len(s.src) && (s.src[s.pos] == 'e' || s.src[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.src) && (s.src[s.pos] == '+' || s.src[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return errJSONSyntax
		}
	}
	return nil
}

func (s *jsonScan) digits() int {
	n := 0
	for s.pos < len(s.src) && s.src[s.pos] >= '0' && s.src[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func (s *jsonScan) literal(word string) error {
	if len(s.src)-s.pos < len(word) || string(s.src[s.pos:s.pos+len(word)]) != word {
		return errJSONSyntax
	}
	s.pos += len(word)
	return nil
}

// replace swaps src[start:end] for the quoted placeholder of secret. Empty
// secrets and existing placeholders are left alone.
func (s *jsonScan) replace(start, end int, secret string) {
	p := s.r.hide(secret)
	if p == secret {
		return
	}
	if s.out == nil {
		s.out = make([]byte, 0, len(s.src))
	}
	s.out = append(s.out, s.src[s.last:start]...)
	s.out = append(s.out, '"')
	s.out = append(s.out, p...)
	s.out = append(s.out, '"')
	s.last = end
}

// unquote returns the text of a scanned JSON string literal q (quotes
// included). Only strings with escapes need the decoder.
func unquote(q []byte, escaped bool) string {
	if !escaped {
		return string(q[1 : len(q)-1])
	}
	var v string
	if err := json.Unmarshal(q, &v); err != nil {
		return string(q[1 : len(q)-1])
	}
	return v
}
