package replay

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func TestMapToken(t *testing.T) {
	cases := []struct{ v, rec, live, want string }{
		{"abc123", "abc123", "zzz999", "zzz999"},
		{"abc123", "Bearer abc123", "Bearer zzz999", "zzz999"},
		{"ord-123456", "/v1/orders/ord-123456", "/v1/orders/ord-987", "ord-987"},
		{"123456", "/v1/orders/123456/items", "/v1/orders/7777777/items", "7777777"},
		{"W/1234567", `"W/1234567"`, `"W/7654321"`, "W/7654321"},
	}
	for _, c := range cases {
		got, ok := mapToken(c.v, c.rec, c.live)
		require.True(t, ok, c.rec)
		assert.Equal(t, c.want, got)
	}
	_, ok := mapToken("abc123", "x abc123 y", "")
	assert.False(t, ok)
}

func TestJSONLeaf(t *testing.T) {
	doc := []byte(`{"a":{"b":[{"c":"x1"},{"c":1234567}]},"s":"top"}`)
	for path, want := range map[string]string{"$.s": "top", "$.a.b[0].c": "x1", "$.a.b[1].c": "1234567"} {
		got, ok := jsonLeaf(doc, path)
		require.True(t, ok, path)
		assert.Equal(t, want, got, path)
	}
	for _, path := range []string{"$.a", "$.a.b[2].c", "$.nope", "a.b", "$.a.b[x]", "$.s[0]"} {
		_, ok := jsonLeaf(doc, path)
		assert.False(t, ok, path)
	}
}

func TestSubstituteLocations(t *testing.T) {
	o := &outRequest{path: "/v1/o/ab+c12/x", rawQuery: "id=ab%2Bc12&k=1",
		header: http.Header{"Authorization": {"Bearer ab+c12"}, "Cookie": {"sid=ab+c12; x=1"}},
		body:   []byte(`{"id":"ab+c12"}`)}
	for _, at := range []plan.Location{{Part: plan.PartPath}, {Part: plan.PartQuery, Path: "id"},
		{Part: plan.PartHeader, Path: "Authorization"}, {Part: plan.PartCookie, Path: "sid"}, {Part: plan.PartJSON, Path: "$.id"}} {
		assert.True(t, o.substitute(at, "ab+c12", `new"9/9`), at.String())
	}
	assert.Equal(t, `/v1/o/new"9/9/x`, o.path)
	assert.Equal(t, "id=new%229%2F9&k=1", o.rawQuery)
	assert.Equal(t, `Bearer new"9/9`, o.header.Get("Authorization"))
	assert.Equal(t, `sid=new"9/9; x=1`, o.header.Get("Cookie"))
	assert.JSONEq(t, `{"id":"new\"9/9"}`, string(o.body))
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC}, "a", "b"))
}

func TestJSONShape(t *testing.T) {
	a, ok := jsonShape([]byte(`{"id":"1","items":[{"n":1},{"n":2}],"ok":true}`))
	require.True(t, ok)
	b, _ := jsonShape([]byte(`{"ok":false,"items":[{"n":9}],"id":"zz"}`))
	assert.Equal(t, a, b, "values and key order do not matter")
	c, _ := jsonShape([]byte(`{"ok":false,"items":[{"n":"9"}],"id":"zz"}`))
	assert.NotEqual(t, a, c, "a type change does")
	_, ok = jsonShape([]byte("plain text"))
	assert.False(t, ok)
}

// Response bodies come from the target: whatever it sends must not panic
// the extractors or the differ.
func FuzzJSONLeaf(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,"x"]}}`), "$.a.b[1]")
	f.Add([]byte(`[{"t":"tok123456"}]`), "$[0].t")
	f.Add([]byte(`{"a":`), "$.a")
	f.Add([]byte(`{}`), "$[")
	f.Add([]byte("\x1f\x8b\x08\x00"), "gzip")
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		for _, coding := range []string{"gzip", "deflate", "zstd", path} {
			if out, ok := decodeBody(body, coding); ok && len(out) > maxBody && coding != "" && coding != "identity" {
				t.Fatalf("%s decoded %d bytes, over the cap", coding, len(out))
			}
		}
		_, _ = jsonLeaf(body, path)
		_, _ = jsonShape(body)
		v, ok := mapToken("x1", string(body), path)
		if ok && v == "" {
			t.Fatalf("mapToken returned an empty live value")
		}
	})
}
