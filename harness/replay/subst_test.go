package replay

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/compose/proto/platform"
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

func TestSubstituteGRPCMessageFixesNestedLengths(t *testing.T) {
	// A live owner in the second item of a list, one level down, longer
	// than the recorded one: the item's and the list's lengths must grow.
	rec := &platform.ListItemsResponse{Items: []*platform.Item{
		{Id: 1, Name: "sword", Owner: "nobody"},
		{Id: 2, Name: "shield", Owner: "ana-8812345"},
	}}
	data, err := proto.Marshal(rec)
	require.NoError(t, err)
	o := &outRequest{msgs: []outMsg{{data: []byte("first")}, {data: data}}}
	require.True(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[1].1.4"}, "ana-8812345", "ana-live-000000000001"))
	var got platform.ListItemsResponse
	require.NoError(t, proto.Unmarshal(o.msgs[1].data, &got))
	assert.Equal(t, "ana-live-000000000001", got.GetItems()[1].GetOwner())
	assert.Equal(t, "nobody", got.GetItems()[0].GetOwner())
	assert.Equal(t, "shield", got.GetItems()[1].GetName())
	assert.Equal(t, "first", string(o.msgs[0].data), "other messages untouched")

	// A value the path no longer holds is still found anywhere in the
	// message; one it does not hold at all is not substituted.
	o = &outRequest{msgs: []outMsg{{data: data}}}
	assert.True(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].1.2"}, "ana-8812345", "x"))
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].1.2"}, "absent-123", "x"))
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[5].1"}, "x", "y"), "no such message")
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "bad"}, "x", "y"))
	o.msgs[0].compressed = true
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].1.4"}, "x", "y"), "compressed bytes are not rewritten")
}

func TestReplaceTokenWholeTokensOnly(t *testing.T) {
	for _, c := range []struct{ s, old, new, want string }{
		{`{"user":"ann","email":"ann@example.com"}`, "ann", "ann-r1", `{"user":"ann-r1","email":"ann@example.com"}`},
		{`{"email":"ann@example.com","user":"ann"}`, "ann@example.com", "ann+r1@example.com", `{"email":"ann+r1@example.com","user":"ann"}`},
		{"/v1/players/ann/inventory", "ann", "ann-r2", "/v1/players/ann-r2/inventory"},
		{"annann ann", "ann", "x", "annann x"},
		{"anna", "ann", "x", "anna"},
		{"ann", "ann", "x", "x"},
		{`{"id":123456}`, "123456", "9123456", `{"id":9123456}`},
		{"a=ann&b=joann", "ann", "z", "a=z&b=joann"},
		{"", "ann", "z", ""},
	} {
		assert.Equal(t, c.want, replaceToken(c.s, c.old, c.new), "%q in %q", c.old, c.s)
	}
}
