package redact

import (
	"strings"
	"unicode/utf8"
)

// fieldSet is a case-insensitive set of names, looked up without allocating
// in the common case of a lowercase ASCII key.
type fieldSet struct {
	names  map[string]bool // lowercase
	maxLen int
}

func newFieldSet(lists ...[]string) fieldSet {
	f := fieldSet{names: map[string]bool{}}
	for _, l := range lists {
		for _, n := range l {
			n = strings.ToLower(strings.TrimSpace(n))
			f.names[n] = true
			f.maxLen = max(f.maxLen, len(n))
		}
	}
	return f
}

// tooLong bounds the keys worth lowercasing: lowercasing changes a UTF-8
// length by a small factor at most, so anything longer cannot match.
func (f fieldSet) tooLong(n int) bool { return n > 3*f.maxLen+utf8.UTFMax }

func (f fieldSet) has(name string) bool {
	if f.tooLong(len(name)) {
		return false
	}
	if needsLower(name) {
		name = strings.ToLower(name)
	}
	return f.names[name]
}

func (f fieldSet) hasBytes(name []byte) bool {
	if f.tooLong(len(name)) {
		return false
	}
	if needsLower(name) {
		return f.names[strings.ToLower(string(name))]
	}
	return f.names[string(name)]
}

func needsLower[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}
