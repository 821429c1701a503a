package plan

import (
	"fmt"
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

func TestReplaceTokensReplacesWholePiecesInOnePass(t *testing.T) {
	for _, c := range []struct {
		s          string
		olds, news []string
		want       string
		hit        []bool
	}{
		// Shifted ids: the first live value is the second's recorded one.
		{`ord-1,ord-2`, []string{"ord-1", "ord-2"}, []string{"ord-2", "ord-3"}, `ord-2,ord-3`, []bool{true, true}},
		// Swapped ids.
		{`/m/ord-1/ord-2`, []string{"ord-1", "ord-2"}, []string{"ord-2", "ord-1"}, `/m/ord-2/ord-1`, []bool{true, true}},
		// Inside a longer piece: left alone.
		{`1700123456789 123456`, []string{"123456"}, []string{"654321"}, `1700123456789 654321`, []bool{true}},
		{`x123456`, []string{"123456"}, []string{"654321"}, `x123456`, []bool{false}},
		// The whole string, separators and all, as the planner offers it.
		{`Bearer abc`, []string{"Bearer abc"}, []string{"Bearer xyz"}, `Bearer xyz`, []bool{true}},
		// Replaced whole, it stands for its pieces too.
		{`/o/ord-1`, []string{"ord-1", "/o/ord-1", "o"}, []string{"ord-9", "/o/ord-9", "p"}, `/o/ord-9`, []bool{true, true, true}},
		{`Bearer abc`, []string{"abc"}, []string{"xyz"}, `Bearer xyz`, []bool{true}},
		{`abc`, []string{"abc"}, []string{"abc"}, `abc`, []bool{true}},
		{`a=abc&b=abc;abc`, []string{"abc", "zzz"}, []string{"N", "M"}, `a=N&b=N;N`, []bool{true, false}},
		{``, []string{"abc"}, []string{"x"}, ``, []bool{false}},
		{`//abc//`, []string{"abc"}, []string{"x"}, `//x//`, []bool{true}},
	} {
		hit := make([]bool, len(c.olds))
		got, changed := ReplaceTokens(c.s, c.olds, c.news, hit)
		if got != c.want || changed != (c.s != c.want) || fmt.Sprint(hit) != fmt.Sprint(c.hit) {
			t.Errorf("ReplaceTokens(%q, %q, %q) = %q, %v, hit %v; want %q, %v, hit %v",
				c.s, c.olds, c.news, got, changed, hit, c.want, c.s != c.want, c.hit)
		}
	}
}
