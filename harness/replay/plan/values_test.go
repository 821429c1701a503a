package plan

import (
	"slices"
	"testing"
)

// tokens yields the string and then each non-empty piece between
// separators, a piece at either end included, and nothing more when there
// is no separator.
func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{""}},
		{"abc123", []string{"abc123"}},
		{"Bearer tok.en-1", []string{"Bearer tok.en-1", "Bearer", "tok.en-1"}},
		{"/v1/items/42", []string{"/v1/items/42", "v1", "items", "42"}},
		{"abc/", []string{"abc/", "abc"}},
		{"//", []string{"//"}},
		{"a=1; b=2", []string{"a=1; b=2", "a", "1", "b", "2"}},
		{`W/"etag-9"`, []string{`W/"etag-9"`, "W", "etag-9"}},
		{"x?q=1&r=#f\tz'", []string{"x?q=1&r=#f\tz'", "x", "q", "1", "r", "f", "z"}},
	} {
		var got []string
		tokens(tc.in, func(s string) { got = append(got, s) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
