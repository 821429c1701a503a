package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// jsonEvent is one leaf as the extractor sees it.
type jsonEvent struct {
	path, value string
	number      bool
}

// tokenLeaves is the reference: the encoding/json Decoder.Token walk the
// planner used before jsonWalker, kept to check that the walker yields
// exactly the same leaves.
func tokenLeaves(data []byte) []jsonEvent {
	var out []jsonEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var st []jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				st = append(st, jsonFrame{array: t == '[', wantKey: t == '{'})
				continue
			}
			if len(st) > 0 {
				st = st[:len(st)-1]
			}
		case string:
			if n := len(st); n > 0 && st[n-1].wantKey {
				st[n-1].key, st[n-1].wantKey = t, false
				continue
			}
			out = append(out, jsonEvent{jsonPath(st), t, false})
		case json.Number:
			out = append(out, jsonEvent{jsonPath(st), string(t), true})
		}
		if n := len(st); n > 0 {
			if st[n-1].array {
				st[n-1].index++
			} else {
				st[n-1].wantKey = true
			}
		}
	}
}

// walkLeaves is the walker's leaves; a leaf whose byte range does not
// hold its value (a number's text, a string's literal) is reported with a
// value that says so, which no reference leaf has.
func walkLeaves(w *jsonWalker, data []byte) []jsonEvent {
	var out []jsonEvent
	w.walk(data, func(st []jsonFrame, v string, number bool, start, end int) {
		if !rangeHolds(data[start:end], v, number) {
			v = fmt.Sprintf("range [%d:%d] %q does not hold %q", start, end, data[start:end], v)
		}
		out = append(out, jsonEvent{jsonPath(st), v, number})
	})
	return out
}

func rangeHolds(raw []byte, v string, number bool) bool {
	if number {
		return string(raw) == v
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == v
}

func TestWalkJSONGivesEachLeafItsBytesAndPath(t *testing.T) {
	data := []byte(" \n {\"a\":\"x\\u0041\",\"b\":[12,{\"c\":\"tok\"}]}\n{\"a\":-1.5}")
	type leaf struct {
		path, value, raw string
		number           bool
	}
	var got []leaf
	WalkJSON(data, func(l *JSONLeaf) {
		if string(l.AppendPath([]byte("x"))) != "x"+l.Path() {
			t.Errorf("AppendPath %q, Path %q", l.AppendPath(nil), l.Path())
		}
		got = append(got, leaf{l.Path(), l.Value, string(data[l.Start:l.End]), l.Number})
	})
	want := []leaf{
		{"$.a", "xA", `"x\u0041"`, false},
		{"$.b[0]", "12", "12", true},
		{"$.b[1].c", "tok", `"tok"`, false},
		{"$.a", "-1.5", "-1.5", true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	for _, in := range []string{``, `  `, `"top"`, `123456`} {
		WalkJSON([]byte(in), func(l *JSONLeaf) {
			t.Errorf("%q: leaf %q, want none: the planner reads objects and arrays only", in, l.Value)
		})
	}
}

func sameLeaves(t *testing.T, w *jsonWalker, data []byte) {
	t.Helper()
	want, got := tokenLeaves(data), walkLeaves(w, data)
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("input %q:\nDecoder.Token: %v\njsonWalker:    %v", data, want, got)
	}
}

func TestJSONWalkMatchesDecoderToken(t *testing.T) {
	var w jsonWalker
	for _, in := range []string{
		`{"a":"x","b":[1,2,{"c":"tok-123456"}],"d":{"e":null,"f":true,"g":-1.5e+3}}`,
		`[{"id":"abc"},{"id":"def"}]`,
		"{\"a\":1}\n{\"a\":2}\n[3]\n",        // NDJSON
		`{"a":1} "top-level-123456" 42 true`, // values after the first document
		`{"a":"tok-123`,                      // cut inside a string
		`{"a":"tok-123456"`,                  // cut after a complete leaf
		`{"a":12345`,                         // a number ended by the cut
		`{"a":1.`, `{"a":1e`, `{"a":-`, `{"a":tru`, `[01]`, `[1.5.3]`, `[1,]`, `[,1]`, `{"a" "b"}`,
		`{"a":1,}`, `{,}`, `{"a"::1}`, `[1 2]`, `{"a":[}`, `[}`, `{]`, `]`, `}`,
		`{"esc\"aped":"a\u00e9\n\/b","k\u0041":"\ud800x"}`, // escapes, a lone surrogate
		"{\"bad\":\"a\x01b\"}", "{\"utf8\":\"\xff\xfe-123456\"}", `{"u":"\u12G4"}`, `{"u":"\x"}`,
		`{"a":{"b":{"c":[[["deep-123456"]]]}}}`, `[[],[[]],{},{"a":[]}]`, `{"":"empty-key"}`,
		" \t\r\n[ 1 , \"two-22222\" ] ", `{"a":1}x`, `[-0, 0.0, 1E5, 2e-3, -12.5E+7]`,
	} {
		sameLeaves(t, &w, []byte(in))
	}
}

// TestJSONWalkMatchesDecoderTokenRandom compares the two walks on random
// documents and on every prefix and single-byte corruption of some of them.
func TestJSONWalkMatchesDecoderTokenRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var w jsonWalker
	for i := range 300 {
		var b strings.Builder
		randJSON(rng, &b, 4)
		doc := []byte(b.String())
		sameLeaves(t, &w, doc)
		if i%10 != 0 {
			continue
		}
		for cut := range len(doc) {
			sameLeaves(t, &w, doc[:cut])
		}
		for range 50 {
			bad := bytes.Clone(doc)
			const alphabet = `{}[],:"\ -0a1e.tfn`
			bad[rng.IntN(len(bad))] = alphabet[rng.IntN(len(alphabet))]
			sameLeaves(t, &w, bad)
		}
	}
}

func randJSON(rng *rand.Rand, b *strings.Builder, depth int) {
	ws := func() {
		if rng.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n"}[rng.IntN(4)])
		}
	}
	ws()
	switch k := rng.IntN(8); {
	case depth > 0 && k < 2:
		b.WriteByte('{')
		for i := range rng.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			b.WriteString(strconv.Quote([]string{"id", "user_id", "name", "a.b", "é", "tok"}[rng.IntN(6)]))
			ws()
			b.WriteByte(':')
			randJSON(rng, b, depth-1)
		}
		b.WriteByte('}')
	case depth > 0 && k < 4:
		b.WriteByte('[')
		for i := range rng.IntN(4) {
			if i > 0 {
				b.WriteByte(',')
			}
			randJSON(rng, b, depth-1)
		}
		b.WriteByte(']')
	case k < 6:
		s := []string{"", "x", "tok-" + strconv.Itoa(rng.IntN(1e9)), "a\"b", "tab\there", "é-123456", "\u2028"}[rng.IntN(7)]
		if rng.IntN(3) == 0 {
			b.WriteString(`"` + strings.ReplaceAll(s, `"`, `\u0022`) + `"`)
		} else {
			b.WriteString(strconv.Quote(s))
		}
	case k < 7:
		b.WriteString([]string{"0", "-1", "123456", "1.5", "-2.5e10", "1E+3", "9007199254740993"}[rng.IntN(7)])
	default:
		b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
	}
	ws()
}

func FuzzJSONWalk(f *testing.F) {
	for _, s := range []string{`{"a":"b","c":[1,2.5,{"d":null}]}`, "{\"a\":1}\n[2]", `{"a":"\u00e9\ud83d\ude00"}`, `[1e5,-0,"x"`} {
		f.Add([]byte(s))
	}
	var w jsonWalker
	f.Fuzz(func(t *testing.T, data []byte) {
		sameLeaves(t, &w, data)
	})
}
