package replay

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/creds"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
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
	assert.Equal(t, `/v1/o/new%229%2F9/x`, o.path, "escaped for a segment")
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
		// A recorded request body is untrusted too: substituting in it
		// keeps valid JSON valid.
		for _, live := range []string{"y\"2<\u2028>\x01", "12345678"} {
			out := replaceJSON(body, path, []string{"x1", "tok123456", path}, []string{live, live, live}, make([]bool, 3))
			if json.Valid(body) && !json.Valid(out) {
				t.Fatalf("replaceJSON(%q at %s) = %q: no longer JSON", body, path, out)
			}
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

// Two correlated values in one request, processed one after another: the
// live value of the first equals the recorded value of the second (ids
// shifted by one because the target's sequence advanced), so the second
// substitution rewrites the first one's live value too.
func TestSubstituteShiftedIdsInOnePass(t *testing.T) {
	var n atomic.Int32
	var gotBody atomic.Value
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/orders":
			k := n.Add(1) // live ids are recorded ids + 1
			_, _ = w.Write([]byte(`{"id":"ord-10000` + string(rune('1'+k)) + `"}`))
		case "/v1/merge":
			b, _ := io.ReadAll(r.Body)
			gotBody.Store(string(b))
			ok(w, r)
		}
	})
	s, src := fixture(t, plan.Causal,
		ex{id: 1, session: "u", conn: 1, method: "POST", path: "/v1/orders", startMs: 0, endMs: 5,
			respBody: `{"id":"ord-100001"}`},
		ex{id: 2, session: "u", conn: 1, method: "POST", path: "/v1/orders", startMs: 10, endMs: 15,
			respBody: `{"id":"ord-100002"}`},
		ex{id: 3, session: "u", conn: 1, method: "POST", path: "/v1/merge", startMs: 20, endMs: 25,
			reqHeaders: [][2]string{{"Content-Type", "application/json"}},
			reqBody:    `{"a":"ord-100001","b":"ord-100002"}`},
	)
	require.Len(t, s.Plan().Correlations, 2)
	_, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":"ord-100002","b":"ord-100003"}`, gotBody.Load().(string))
}

// A recorded query value that needed no escaping, a live one that does
// (base64 cursor): the live value goes into the raw query unescaped.
func TestSubstituteEscapesALiveQueryValue(t *testing.T) {
	const liveCur = "Q+z/9abc1=="
	var got atomic.Value
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			_, _ = w.Write([]byte(`{"next":"` + liveCur + `"}`))
			return
		}
		got.Store(r.URL.Query().Get("cursor"))
		ok(w, r)
	})
	s, src := fixture(t, plan.Causal,
		ex{id: 1, session: "u", conn: 1, path: "/v1/items", startMs: 0, endMs: 5, respBody: `{"next":"Qz9abc1xyz"}`},
		ex{id: 2, session: "u", conn: 1, path: "/v1/items", query: "cursor=Qz9abc1xyz&limit=50", startMs: 10, endMs: 15},
	)
	require.NotEmpty(t, s.Plan().Correlations)
	_, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Equal(t, liveCur, got.Load())
}

// Same for the path: a live id with '/' changes the route.
func TestSubstituteEscapesALivePathSegment(t *testing.T) {
	o := &outRequest{path: "/v1/docs/Qz9abc1xyz/meta"}
	require.True(t, o.substitute(plan.Location{Part: plan.PartPath}, "Qz9abc1xyz", "Q/z9abc1=="))
	assert.Equal(t, "/v1/docs/Q%2Fz9abc1==/meta", o.path)
	// A value that stood for several segments (a Location path) keeps its
	// slashes.
	o = &outRequest{path: "/v1/orders/ord-1"}
	require.True(t, o.substitute(plan.Location{Part: plan.PartPath}, "/v1/orders/ord-1", "/v1/orders/ord 2"))
	assert.Equal(t, "/v1/orders/ord%202", o.path)
}

// A 6-digit numeric id is also a substring of other numbers in the body.
func TestSubstituteReplacesWholeTokensOnly(t *testing.T) {
	o := &outRequest{header: http.Header{}, body: []byte(`{"order":123456,"ts":1700123456789}`)}
	require.True(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.order"}, "123456", "654321"))
	assert.JSONEq(t, `{"order":654321,"ts":1700123456789}`, string(o.body))
	o = &outRequest{header: http.Header{"X-Ref": {"a-123456 b123456"}}, rawQuery: "q=123456789&r=123456"}
	require.True(t, o.substitute(plan.Location{Part: plan.PartHeader, Path: "X-Ref"}, "a-123456", "z"))
	require.True(t, o.substitute(plan.Location{Part: plan.PartQuery, Path: "r"}, "123456", "7"))
	assert.Equal(t, "z b123456", o.header.Get("X-Ref"))
	assert.Equal(t, "q=123456789&r=7", o.rawQuery)
	// A live value that is no number goes into a number leaf as a string.
	o = &outRequest{header: http.Header{}, body: []byte(`{"order":123456}`)}
	require.True(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.order"}, "123456", "ord-9"))
	assert.JSONEq(t, `{"order":"ord-9"}`, string(o.body))
}

// substitute reports a use applied only when the recorded value was
// found where the plan put it, and replaced: a JSON string is matched on
// its value, however the client escaped it.
func TestSubstituteReportsOnlyWhatItReplaced(t *testing.T) {
	const old, live = "https://api.example/x?p=abc123&n=5", "https://api.example/x?p=zzz999&n=<5>"
	for _, body := range []string{`{"next":"` + old + `"}`, `{"next":"https:\/\/api.example\/x?p=abc123\u0026n=5"}`} {
		o := &outRequest{header: http.Header{}, path: "/x", body: []byte(body)}
		require.True(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.next"}, old, live), body)
		assert.Equal(t, `{"next":"https://api.example/x?p=zzz999&n=<5>"}`, string(o.body), "only the leaf is re-encoded, without HTML escapes")
	}
	o := &outRequest{header: http.Header{"X-Other": {"abc123"}}, path: "/x", body: []byte(`{"next":"abc123","other":"abc123"}`)}
	assert.False(t, o.substitute(plan.Location{Part: plan.PartHeader, Path: "X-Absent"}, "abc123", "x"), "no such header")
	assert.False(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.gone"}, "abc123", "x"), "no such leaf")
	assert.False(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.next"}, "absent-123", "x"), "not in the leaf")
	assert.Equal(t, `{"next":"abc123","other":"abc123"}`, string(o.body))
	assert.True(t, o.substitute(plan.Location{Part: plan.PartJSON, Path: "$.next"}, "abc123", "x"))
	assert.Equal(t, `{"next":"x","other":"abc123"}`, string(o.body), "only the leaf at the use's path")
}

// A recorded response body cut off at the capture cap: the planner found
// the value in the leading leaves, but jsonLeaf needs the whole document.
func TestLiveValueFromATruncatedRecordedBody(t *testing.T) {
	recEx := (ex{respBody: `{"token":"tok-123456","items":[{"a":1},{"a":`}).pb()
	c := plan.Correlation{Value: "tok-123456", Source: plan.Ref{At: plan.Location{Part: plan.PartJSON, Path: "$.token"}}}
	got, ok := liveValue(c, recEx, liveResponse{header: http.Header{}, body: []byte(`{"token":"tok-live-1","items":[]}`)})
	assert.True(t, ok)
	assert.Equal(t, "tok-live-1", got)
}

// Two Set-Cookie for one name (PHP session_regenerate_id, a delete then a
// set): the client keeps and sends the last; liveValue reads the first.
func TestLiveValueFromTheLastSetCookie(t *testing.T) {
	recEx := &rprpb.Exchange{Response: &rprpb.Response{Headers: []*rprpb.Header{
		{Name: "Set-Cookie", Values: []string{"PHPSESSID=old0aa11bb22; path=/", "PHPSESSID=new9cc33dd44; path=/"}}}}}
	c := plan.Correlation{Value: "new9cc33dd44", Source: plan.Ref{At: plan.Location{Part: plan.PartSetCookie, Path: "PHPSESSID"}}}
	h := http.Header{}
	h.Add("Set-Cookie", "PHPSESSID=liveold111; path=/")
	h.Add("Set-Cookie", "PHPSESSID=livenew222; path=/")
	got, ok := liveValue(c, recEx, liveResponse{header: h})
	assert.True(t, ok)
	assert.Equal(t, "livenew222", got)
}

// In NDJSON every document has the same paths: the live value comes from
// the document whose recorded leaf held the value.
func TestLiveValueFromTheSameNDJSONDocument(t *testing.T) {
	recEx := (ex{respBody: "{\"id\":\"ord-100001\"}\n{\"id\":\"ord-100002\"}\n"}).pb()
	c := plan.Correlation{Value: "ord-100002", Source: plan.Ref{At: plan.Location{Part: plan.PartJSON, Path: "$.id"}}}
	got, ok := liveValue(c, recEx, liveResponse{header: http.Header{}, body: []byte("{\"id\":\"L1\"}\n{\"id\":\"L2\"}")})
	require.True(t, ok)
	assert.Equal(t, "L2", got)
	_, ok = liveValue(c, recEx, liveResponse{header: http.Header{}, body: []byte(`{"id":"L1"}`)})
	assert.False(t, ok, "the live answer has no second document")
}

// A value the use's path holds in a varint, with a live value that is no
// integer, is not replaced in some other field that happens to hold the
// same text: the use is unresolved and the message unchanged.
func TestSubstituteGRPCVarintWithATextLiveValueIsNotApplied(t *testing.T) {
	msg := protowire.AppendTag(nil, 1, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 1234567)
	msg = protowire.AppendTag(msg, 2, protowire.BytesType)
	msg = protowire.AppendString(msg, "ref 1234567")
	o := &outRequest{msgs: []outMsg{{data: slices.Clone(msg)}}}
	assert.False(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].1"}, "1234567", "ord-x"))
	assert.Equal(t, msg, o.msgs[0].data)
	// With no leaf at the path at all, the value is looked for anywhere.
	assert.True(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].3"}, "1234567", "7654321"))
	v, ok := rawproto.Get(o.msgs[0].data, "2", 0)
	require.True(t, ok)
	assert.Equal(t, "ref 7654321", v)
}

// Placeholders in the query or a JSON body are never given the provider's
// token: only headers are scanned.
func TestCredentialsWhereverRedactionPutThem(t *testing.T) {
	const ph = "rpr-redacted-00112233445566778899aabb"
	const tok = `s3cret+/="live`
	p := creds.Static(map[string]string{ph: tok})
	o := &outRequest{header: http.Header{"Authorization": {"Bearer " + ph}, "Content-Type": {"application/json"}},
		path: "/v1/keys/" + ph, rawQuery: "access_token=" + ph, body: []byte(`{"user":"ana","password":"` + ph + `"}`)}
	assert.Empty(t, o.credentials(context.Background(), p, "u"))
	assert.Equal(t, "Bearer "+tok, o.header.Get("Authorization"))
	assert.Equal(t, "/v1/keys/"+url.PathEscape(tok), o.path)
	q, err := url.ParseQuery(o.rawQuery)
	require.NoError(t, err)
	assert.Equal(t, tok, q.Get("access_token"))
	var body struct{ Password string }
	require.NoError(t, json.Unmarshal(o.body, &body))
	assert.Equal(t, tok, body.Password)

	// A form body, a WebSocket text frame, a gRPC field.
	o = &outRequest{header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: []byte("u=ana&p=" + ph)}
	assert.Empty(t, o.credentials(context.Background(), p, "u"))
	f, err := url.ParseQuery(string(o.body))
	require.NoError(t, err)
	assert.Equal(t, tok, f.Get("p"))
	o = &outRequest{header: http.Header{}, msgs: []outMsg{{opcode: 1, data: []byte(`{"auth":"` + ph + `"}`)}}}
	assert.Empty(t, o.credentials(context.Background(), p, "u"))
	var frame struct{ Auth string }
	require.NoError(t, json.Unmarshal(o.msgs[0].data, &frame))
	assert.Equal(t, tok, frame.Auth)
	msg := protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "Bearer "+ph)
	o = &outRequest{proto: rprpb.Protocol_PROTOCOL_GRPC, header: http.Header{}, msgs: []outMsg{{data: msg}}}
	assert.Empty(t, o.credentials(context.Background(), p, "u"))
	v, ok := rawproto.Get(o.msgs[0].data, "2", 0)
	require.True(t, ok)
	assert.Equal(t, "Bearer "+tok, v)

	// No token: the placeholder stays, and the note names it.
	o = &outRequest{header: http.Header{}, rawQuery: "k=" + ph}
	notes := o.credentials(context.Background(), creds.Static(nil), "u")
	assert.Equal(t, []string{"credentials: no token for " + ph}, notes)
	assert.Equal(t, "k="+ph, o.rawQuery)
}

// A nested message made only of printable bytes (field 4..15, length 32..126)
// is taken as a string leaf; a live value of another length leaves the
// inner length prefix stale.
func TestSubstituteGRPCInAPrintableNestedMessageFixesItsLength(t *testing.T) {
	const recID = "0123456789abcdef0123456789abcdef" // 32 bytes: length byte ' '
	const liveID = "9f0c1e2d-3b4a-5968-7a8b-9c0d1e2f3a4b"
	inner := protowire.AppendTag(nil, 4, protowire.BytesType)
	inner = protowire.AppendString(inner, recID)
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, inner)

	var paths []string
	require.NoError(t, plan.ScanProto(msg, func(f plan.ProtoField) { paths = append(paths, f.Path) }))
	require.Equal(t, []string{"1"}, paths, "the planner reads the printable message as one string leaf")

	o := &outRequest{msgs: []outMsg{{data: msg}}}
	require.True(t, o.substitute(plan.Location{Part: plan.PartGRPC, Path: "[0].1"}, recID, liveID))
	out := o.msgs[0].data
	_, _, n := protowire.ConsumeTag(out)
	v, m := protowire.ConsumeBytes(out[n:])
	require.GreaterOrEqual(t, m, 0)
	// parse the inner message
	_, _, n2 := protowire.ConsumeTag(v)
	s, m2 := protowire.ConsumeString(v[n2:])
	require.GreaterOrEqual(t, m2, 0)
	assert.Equal(t, liveID, s, "inner field holds the live id")
	assert.Equal(t, len(v), n2+m2, "inner message parses to its end")
}

// A binary id in a repeated bytes field that happens to parse as a message
// (about 1-2% of random 8-16 byte ids) is skipped as a leaf, so the
// occurrence numbers shift and the neighbour's id is captured.
func TestLiveValueFromARepeatedFieldByPosition(t *testing.T) {
	enc := func(ids ...string) []byte {
		var b []byte
		for _, id := range ids {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, id)
		}
		return b
	}
	rec0, rec1, rec2 := "\xff\xfe\x01\x02\x03\x04\x05\x06", "\xff\xfd\x11\x12\x13\x14\x15\x16", "\xff\xfc\x21\x22\x23\x24\x25\x26"
	live0 := "\x08\x01\x08\x01\x08\x01\x08\x01" // a valid message by accident
	live1, live2 := "\xff\xaa\x31\x32\x33\x34\x35\x36", "\xff\xbb\x41\x42\x43\x44\x45\x46"
	require.True(t, plan.NestedMessage([]byte(live0), 0))
	recEx := &rprpb.Exchange{Protocol: rprpb.Protocol_PROTOCOL_GRPC, Grpc: &rprpb.Grpc{Messages: []*rprpb.Message{
		{Direction: rprpb.Direction_DIRECTION_RESPONSE, Data: enc(rec0, rec1, rec2)}}}}
	c := plan.Correlation{Value: rec1, Source: plan.Ref{At: plan.Location{Part: plan.PartGRPC, Path: "[0].1"}}}
	got, ok := liveMessageValue(c, recEx, &rprpb.Message{Data: enc(live0, live1, live2)})
	require.True(t, ok)
	assert.Equal(t, live1, got, "captured the id of the next item instead")
}
