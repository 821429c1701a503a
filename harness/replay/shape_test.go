package replay

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shapeDocs are documents whose shapes the scanner must hash exactly as
// jsonShape's string hashes, accepted or rejected alike.
var shapeDocs = []string{
	`{}`, `[]`, ` {"a":1} `, `{"b":1,"a":"x"}`, `{"a":{"c":null,"b":[true,false]}}`,
	`[1,2,3]`, `[1,"x",1,{"a":1},{"a":2},{"b":1}]`, `[[],[1],[[]]]`, `{"a":[],"b":{}}`,
	`{"a":1,"a":"x"}`, `{"a":"x","a":1}`, `{"a\u0062":1,"ab":true}`, `{"\u00e9":1,"é":"x"}`,
	"{\"\xff\":1}", `{"k\"q":1}`, `[-0.5e+10,0,1E3,-1]`, `{"s":"\u00e9\n\t\\\/"}`,
	`[1] trailing`, `{}}`, `{"a":1}{"b":2}`, "\t\n [null] \n",
	// rejected
	``, `   `, `1`, `"x"`, `null`, `[1`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[01]`, `[1.]`,
	`[-]`, `[1e]`, `[.5]`, `[tru]`, `[truex]`, `{a:1}`, "[\"\x01\"]", `["\x"]`, `["\u12"]`,
	`{"a":1 "b":2}`, `[1 2]`, `[+1]`, `{"a":[1}`, `["abc`, `{"a":1,"b"`,
}

func TestShapeHashMatchesJSONShape(t *testing.T) {
	docs := append([]string{}, shapeDocs...)
	docs = append(docs, strings.Repeat("[", maxShapeDepth)+strings.Repeat("]", maxShapeDepth),
		strings.Repeat("[", maxShapeDepth+1)+strings.Repeat("]", maxShapeDepth+1))
	accepted := 0
	for _, d := range docs {
		want, wantOK := jsonShape([]byte(d))
		got, ok := shapeHash([]byte(d))
		short := d[:min(len(d), 40)]
		if !assert.Equal(t, wantOK, ok, "accepted %q", short) || !ok {
			continue
		}
		accepted++
		assert.Equal(t, fnvHash([]byte(want)), got, "hash of %q (shape %q)", short, want[:min(len(want), 60)])
	}
	assert.Equal(t, 22, accepted, "the table must exercise both outcomes")
}

func TestShapeHashTellsShapesApart(t *testing.T) {
	same := [][2]string{
		{`{"a":1,"b":"x"}`, `{"b":"y","a":2.5}`},
		{`[1,2,3]`, `[4]`},
		{`[{"a":1},{"b":1},{"a":3}]`, `[{"b":2},{"a":7}]`},
	}
	for _, p := range same {
		a, _ := shapeHash([]byte(p[0]))
		b, _ := shapeHash([]byte(p[1]))
		assert.Equal(t, a, b, "%s vs %s", p[0], p[1])
	}
	differ := [][2]string{
		{`{"a":1}`, `{"a":"1"}`}, {`{"a":1}`, `{"b":1}`}, {`[1]`, `[1,"x"]`}, {`{"a":null}`, `{"a":{}}`},
		{`[true]`, `[null]`}, {`{"a":[]}`, `{"a":{}}`},
	}
	for _, p := range differ {
		a, _ := shapeHash([]byte(p[0]))
		b, _ := shapeHash([]byte(p[1]))
		assert.NotEqual(t, a, b, "%s vs %s", p[0], p[1])
	}
}

// TestShapeHashDoesNotAllocate: once its buffers have grown, the scanner
// hashes a live body without allocating (shapeHash keeps scanners in a
// sync.Pool, which the race detector empties at random: the scanner is
// measured directly).
func TestShapeHashDoesNotAllocate(t *testing.T) {
	doc := []byte(`{"id":"item-1","name":"x","tags":["a","b"],"price":{"amount":12.5,"currency":"EUR"},` +
		`"stock":[{"site":"a","n":1},{"site":"b","n":2}],"active":true,"note":null}`)
	var s shaper
	hash := func() uint64 {
		s.reset(doc)
		if !s.value() {
			t.Fatal("document rejected")
		}
		return fnvHash(s.out)
	}
	want, _ := shapeHash(doc)
	assert.Equal(t, want, hash())
	allocs := testing.AllocsPerRun(100, func() { _ = hash() })
	assert.Zero(t, allocs)
}

// FuzzShapeHash checks the scanner against jsonShape: the same documents
// accepted, the hash of jsonShape's string, and so equal shapes exactly
// when equal hashes.
func FuzzShapeHash(f *testing.F) {
	for i, d := range shapeDocs {
		f.Add([]byte(d), []byte(shapeDocs[(i+1)%len(shapeDocs)]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sa, okA := jsonShape(a)
		sb, okB := jsonShape(b)
		ha, gotA := shapeHash(a)
		hb, gotB := shapeHash(b)
		if okA != gotA || okB != gotB {
			t.Fatalf("accepted: jsonShape %v,%v scanner %v,%v", okA, okB, gotA, gotB)
		}
		if okA && ha != fnvHash([]byte(sa)) {
			t.Fatalf("hash of %q is not that of its shape %q", a, sa)
		}
		if okA && okB && (sa == sb) != (ha == hb) {
			t.Fatalf("shapes equal %v, hashes equal %v: %q %q", sa == sb, ha == hb, a, b)
		}
	})
}

// TestShapeHashDeepAndWide: a deep document around a wide object, where
// every level would move the whole inner shape, is hashed by the fallback
// within budget, still as jsonShape's string.
func TestShapeHashDeepAndWide(t *testing.T) {
	var b strings.Builder
	const depth, width = 3000, 3000
	b.WriteString(strings.Repeat(`{"k":`, depth))
	b.WriteString(`{`)
	for i := range width {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"key` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("0", i%5) + `":` + []string{"1", `"s"`, "null"}[i%3])
	}
	b.WriteString(`}` + strings.Repeat(`}`, depth))
	doc := []byte(b.String())
	var s shaper
	s.reset(doc)
	assert.False(t, s.value(), "the scan gives up")
	assert.True(t, s.over, "over budget, not rejected")
	want, ok := jsonShape(doc)
	require.True(t, ok)
	got, ok := shapeHash(doc)
	require.True(t, ok)
	assert.Equal(t, fnvHash([]byte(want)), got)
}
