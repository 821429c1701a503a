package plan

import (
	"github.com/reprise-dev/reprise/harness/route"
)

// The value rule. A false data-flow edge serialises replay for nothing; a
// missing one breaks it. Most response content is catalogue data the
// server hands every client alike (item ids, prices, names, flags), and an
// edge from it would chain unrelated sessions together. So a value takes part
// in correlation only when it looks issued: long enough, not a word, not a
// small number. The first-seen rule (in Build) then drops anything a client
// sent before the server did.
const (
	// DefaultMinValueLen is the shortest string that can be a correlated value.
	DefaultMinValueLen = 6
	// DefaultMinNumberDigits is the fewest digits an integer needs: ids below
	// 100000 are catalogue ids and counters far more often than issued ids.
	DefaultMinNumberDigits = 6
	// DefaultMaxValueLen caps the values kept in the index; longer strings are
	// blobs (documents, images), not identifiers, and would cost memory.
	DefaultMaxValueLen = 1024
)

// valueRule decides which strings are correlation candidates.
type valueRule struct {
	minLen, minDigits, maxLen int
}

// candidate applies the rule. Every rejected class is listed in order:
//
//   - empty, or longer than maxLen;
//   - a number (integer, decimal or exponent form): kept only when it is an
//     integer of at least minDigits digits, so 1, 2, 47, 1000 and 0.5 go;
//   - shorter than minLen;
//   - containing whitespace or control characters (sentences, names;
//     their words are offered separately by tokens);
//   - without any digit, unless it looks random (route.IsID: long base64
//     tokens, hex): words, enums, booleans, media types.
func (r valueRule) candidate(s string) bool {
	n := len(s)
	if n == 0 || n > r.maxLen {
		return false
	}
	if digits, integer, ok := numberShape(s); ok {
		return integer && digits >= r.minDigits
	}
	if n < r.minLen {
		return false
	}
	hasDigit := false
	for i := 0; i < n; i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			return false
		}
		if '0' <= c && c <= '9' {
			hasDigit = true
		}
	}
	return hasDigit || route.IsID(s)
}

// numberShape reports whether s is a JSON-style number, how many digits its
// integer part has, and whether it is an integer.
func numberShape(s string) (digits int, integer, ok bool) {
	i := 0
	if s[0] == '-' {
		i++
	}
	start := i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	digits = i - start
	if digits == 0 {
		return 0, false, false
	}
	if i == len(s) {
		return digits, true, true
	}
	if s[i] != '.' && s[i] != 'e' && s[i] != 'E' {
		return 0, false, false
	}
	for i++; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9') && c != '+' && c != '-' && c != 'e' && c != 'E' {
			return 0, false, false
		}
	}
	return digits, false, true
}

// TokenSeps split a string into the pieces a value can hide in: URL
// segments, query pairs, "Bearer <tok>", "a=1; b=2", quoted ETags. The
// executor and rawproto find and replace values with the same separators.
const TokenSeps = "/?&=;, \t\"'#"

// isTokenSep tells the bytes of TokenSeps: tokens looks up every byte of
// every string a recording's bodies hold.
var isTokenSep = func() (t [256]bool) {
	for i := range len(TokenSeps) {
		t[TokenSeps[i]] = true
	}
	return t
}()

// tokens calls fn with s itself and with every piece of s between
// separators, in one pass and without allocating; duplicates are the
// caller's concern.
func tokens(s string, fn func(string)) {
	fn(s)
	start := 0
	for i := 0; i < len(s); i++ {
		if !isTokenSep[s[i]] {
			continue
		}
		if i > start {
			fn(s[start:i])
		}
		start = i + 1
	}
	if start > 0 && start < len(s) { // a piece after the last separator
		fn(s[start:])
	}
}

// ReplaceTokens returns s with each value olds[i] replaced by news[i]
// wherever the planner could have found it: s whole, or a piece of s
// between separators (TokenSeps), never part of a longer piece ("123456"
// in "1700123456789"). All the pairs are applied in one pass, so a new
// value is never itself taken for another pair's old one. hit[i] (hit
// may be nil) is set when olds[i] was replaced, or stood as a piece of s
// when s was replaced whole (the new whole value stands for it too);
// changed reports whether anything was. The first of equal olds wins.
func ReplaceTokens(s string, olds, news []string, hit []bool) (out string, changed bool) {
	pick := func(t string) int {
		for i, old := range olds {
			if old != "" && t == old {
				return i
			}
		}
		return -1
	}
	if i := pick(s); i >= 0 {
		if hit != nil {
			hit[i] = true
			tokens(s, func(t string) {
				if j := pick(t); j >= 0 {
					hit[j] = true
				}
			})
		}
		return news[i], s != news[i]
	}
	var b []byte
	done, start := 0, 0 // s[:done] is in b
	piece := func(end int) {
		if end <= start {
			return
		}
		i := pick(s[start:end])
		if i < 0 {
			return
		}
		if hit != nil {
			hit[i] = true
		}
		b = append(append(b, s[done:start]...), news[i]...)
		done = end
	}
	for i := 0; i < len(s); i++ {
		if isTokenSep[s[i]] {
			piece(i)
			start = i + 1
		}
	}
	if start > 0 {
		piece(len(s))
	}
	if b == nil && done == 0 {
		return s, false
	}
	out = string(append(b, s[done:]...))
	return out, out != s
}
