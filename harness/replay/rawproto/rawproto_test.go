package rawproto_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
)

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}

func listItems() *platform.ListItemsResponse {
	return &platform.ListItemsResponse{Items: []*platform.Item{
		{Id: 101, Name: "sword-of-dawn", Price: 250, Owner: "tester-0001"},
		{Id: 102, Name: "shield", Price: 90, Owner: "tester-0002"},
		{Id: 103, Name: "potion", Price: 5, Owner: "tester-0001"},
	}}
}

func TestGetReadsFieldsOfGeneratedMessages(t *testing.T) {
	buy := marshal(t, &platform.BuyResponse{OrderId: "ord-7f3a9c", ItemId: 4242, Balance: -3, TxHash: "0xabc"})
	items := marshal(t, listItems())
	for _, tc := range []struct {
		name string
		msg  []byte
		path string
		nth  int
		want string
		ok   bool
	}{
		{"string", buy, "1", 0, "ord-7f3a9c", true},
		{"varint", buy, "2", 0, "4242", true},
		{"negative int64 reads as the planner sees it", buy, "3", 0, "18446744073709551613", true},
		{"only one occurrence", buy, "1", 1, "", false},
		{"absent field", buy, "9", 0, "", false},
		{"first nested item name", items, "1.2", 0, "sword-of-dawn", true},
		{"third nested item name", items, "1.2", 2, "potion", true},
		{"nested varint", items, "1.1", 1, "102", true},
		{"beyond the repeated field", items, "1.2", 3, "", false},
		{"a message is not a leaf", items, "1", 0, "", false},
		{"below a leaf", buy, "1.1", 0, "", false},
		{"negative nth", items, "1.2", -1, "", false},
		{"bad path", items, "1..2", 0, "", false},
		{"leading zero", items, "01.2", 0, "", false},
		{"field number zero", items, "0", 0, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := rawproto.Get(tc.msg, tc.path, tc.nth)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// scanned lists what plan.ScanProto reports, with each field's occurrence
// number among those of the same path.
type scannedField struct {
	path  string
	nth   int
	value string
}

func scan(data []byte) ([]scannedField, error) {
	var out []scannedField
	count := map[string]int{}
	err := plan.ScanProto(data, func(f plan.ProtoField) {
		v := string(f.Bytes)
		if f.IsVarint {
			v = strconv.FormatUint(f.Varint, 10)
		}
		out = append(out, scannedField{path: f.Path, nth: count[f.Path], value: v})
		count[f.Path]++
	})
	return out, err
}

// The planner names the values it correlates with ScanProto; Get must read
// back exactly those, or the executor would capture the wrong field.
func TestGetAgreesWithScanProto(t *testing.T) {
	msgs := map[string][]byte{
		"items": marshal(t, listItems()),
		"exchange": marshal(t, &rprpb.Exchange{Id: 7, Session: "s-1",
			Request: &rprpb.Request{Method: "POST", Path: "/p", Headers: []*rprpb.Header{
				{Name: "a", Values: []string{"1", "2"}}, {Name: "b", Values: []string{"3"}}}},
			Grpc: &rprpb.Grpc{FullMethod: "/x.Y/Z", Messages: []*rprpb.Message{
				{Direction: 1, Data: []byte("hello")}, {Direction: 2, AtNs: 5, Data: []byte{0, 1, 2}}}}}),
		"block": marshal(t, &platform.Block{Number: 3, Hash: "h", Txs: []*platform.Tx{
			{Hash: "t1", Kind: "buy", Player: "p", ItemId: 1}, {Hash: "t2", Kind: "sell"}}}),
	}
	for name, data := range msgs {
		fields, err := scan(data)
		require.NoError(t, err)
		require.NotEmpty(t, fields)
		for _, f := range fields {
			got, ok := rawproto.Get(data, f.path, f.nth)
			assert.True(t, ok, "%s: %s #%d", name, f.path, f.nth)
			assert.Equal(t, f.value, got, "%s: %s #%d", name, f.path, f.nth)
		}
	}
}

func TestReplaceRewritesGeneratedMessages(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       proto.Message
		path     string
		nth      int
		old, new string
		want     proto.Message
	}{
		{
			name: "BuyResponse.order_id grows",
			in:   &platform.BuyResponse{OrderId: "ord-1", ItemId: 7, Balance: 90, TxHash: "0xabc"},
			path: "1", old: "ord-1", new: "ord-20261127-000000000042",
			want: &platform.BuyResponse{OrderId: "ord-20261127-000000000042", ItemId: 7, Balance: 90, TxHash: "0xabc"},
		},
		{
			name: "BuyRequest.item_id varint grows",
			in:   &platform.BuyRequest{Player: "p1", ItemId: 9, RequestId: "r"},
			path: "2", old: "9", new: "123456789012",
			want: &platform.BuyRequest{Player: "p1", ItemId: 123456789012, RequestId: "r"},
		},
		{
			name: "varint shrinks and takes a negative int64",
			in:   &platform.BuyResponse{OrderId: "o", Balance: 1 << 40},
			path: "3", old: strconv.FormatInt(1<<40, 10), new: "-2",
			want: &platform.BuyResponse{OrderId: "o", Balance: -2},
		},
		{
			name: "name of the second nested Item",
			in:   listItems(), path: "1.2", nth: 1, old: "shield", new: "tower-shield",
			want: func() proto.Message { m := listItems(); m.Items[1].Name = "tower-shield"; return m }(),
		},
		{
			name: "nested Item id",
			in:   listItems(), path: "1.1", nth: 2, old: "103", new: "7",
			want: func() proto.Message { m := listItems(); m.Items[2].Id = 7; return m }(),
		},
		{
			name: "every occurrence that holds the value",
			in:   listItems(), path: "1.4", nth: rawproto.All, old: "tester-0001", new: "tester-0001-clone-3",
			want: func() proto.Message {
				m := listItems()
				m.Items[0].Owner, m.Items[2].Owner = "tester-0001-clone-3", "tester-0001-clone-3"
				return m
			}(),
		},
		{
			name: "a token inside a string",
			in:   &platform.Tx{Hash: "h", Kind: "buy", From: "orders/ord-1?v=2"},
			path: "6", old: "ord-1", new: "ord-999",
			want: &platform.Tx{Hash: "h", Kind: "buy", From: "orders/ord-999?v=2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := marshal(t, tc.in)
			orig := bytes.Clone(in)
			out, err := rawproto.Replace(in, tc.path, tc.nth, tc.old, tc.new)
			require.NoError(t, err)
			assert.Equal(t, orig, in, "the input is not modified")
			got := tc.want.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(out, got))
			assert.True(t, proto.Equal(tc.want, got), "got %v, want %v", got, tc.want)
			// Reversing the substitution restores the original bytes.
			back, err := rawproto.Replace(out, tc.path, tc.nth, tc.new, tc.old)
			require.NoError(t, err)
			assert.True(t, proto.Equal(tc.in, unmarshalLike(t, tc.in, back)))
		})
	}
}

func unmarshalLike(t *testing.T, like proto.Message, b []byte) proto.Message {
	t.Helper()
	m := like.ProtoReflect().New().Interface()
	require.NoError(t, proto.Unmarshal(b, m))
	return m
}

// Exchange.grpc (13) > Grpc.messages (3) > Message.data (3): a change in the
// innermost field must fix three length prefixes, including across the
// one-byte/two-byte varint boundary at 128.
func TestReplaceGrowsAndShrinksAcrossThreeLevels(t *testing.T) {
	build := func(second string) *rprpb.Exchange {
		return &rprpb.Exchange{Id: 1, Session: "s", Grpc: &rprpb.Grpc{FullMethod: "/platform.Shop/Buy",
			Messages: []*rprpb.Message{
				{Direction: 1, AtNs: 10, Data: []byte("first")},
				{Direction: 2, AtNs: 20, Data: []byte(second), Size: 99},
				{Direction: 1, AtNs: 30, Data: []byte("third")},
			}, StatusCode: 0}, Error: "trailing"}
	}
	short, long := "tok-1", "tok-"+strings.Repeat("x", 300)
	in := marshal(t, build(short))
	require.Less(t, len(in), 128, "every prefix starts as one byte")

	grown, err := rawproto.Replace(in, "13.3.3", 1, short, long)
	require.NoError(t, err)
	assert.True(t, proto.Equal(build(long), unmarshalLike(t, build(long), grown)))
	assert.Equal(t, marshal(t, build(long)), grown, "canonical lengths, as proto.Marshal writes them")

	shrunk, err := rawproto.Replace(grown, "13.3.3", 1, long, short)
	require.NoError(t, err)
	assert.Equal(t, in, shrunk)

	got, ok := rawproto.Get(grown, "13.3.3", 1)
	require.True(t, ok)
	assert.Equal(t, long, got)
	got, ok = rawproto.Get(grown, "13.3.3", 2)
	require.True(t, ok)
	assert.Equal(t, "third", got, "fields after the grown one still read")
}

// Fields that are not replaced are copied byte for byte, even encodings
// proto.Marshal would never produce; an unchanged length keeps its bytes.
func TestReplaceCopiesOtherBytesUnchanged(t *testing.T) {
	var inner []byte
	inner = protowire.AppendTag(inner, 1, protowire.VarintType)
	inner = append(inner, 0x85, 0x80, 0x00) // 5, overlong
	inner = protowire.AppendTag(inner, 2, protowire.Fixed32Type)
	inner = protowire.AppendFixed32(inner, 0xdeadbeef)
	inner = protowire.AppendTag(inner, 3, protowire.BytesType)
	inner = protowire.AppendString(inner, "abc-123")
	inner = protowire.AppendTag(inner, 999, protowire.Fixed64Type)
	inner = protowire.AppendFixed64(inner, 42)

	build := func(inner []byte, overlong bool) []byte {
		var msg []byte
		msg = protowire.AppendTag(msg, 4, protowire.BytesType)
		if overlong {
			msg = append(msg, byte(len(inner))|0x80, 0x00)
		} else {
			msg = protowire.AppendVarint(msg, uint64(len(inner)))
		}
		msg = append(msg, inner...)
		msg = protowire.AppendTag(msg, 5, protowire.VarintType)
		return append(msg, 0xff, 0xff, 0xff, 0xff, 0x0f)
	}
	msg := build(inner, true)

	same, err := rawproto.Replace(msg, "4.3", 0, "abc-123", "xyz-789")
	require.NoError(t, err)
	want := bytes.Replace(msg, []byte("abc-123"), []byte("xyz-789"), 1)
	assert.Equal(t, want, same, "same length: only the value bytes change")

	longer, err := rawproto.Replace(msg, "4.3", 0, "abc-123", "abc-12345")
	require.NoError(t, err)
	wantInner := bytes.Replace(inner, []byte{0x07, 'a', 'b', 'c', '-', '1', '2', '3'}, []byte("\x09abc-12345"), 1)
	assert.Equal(t, build(wantInner, false), longer, "only the changed lengths are re-encoded")

	ident, err := rawproto.Replace(msg, "4.1", 0, "5", "5")
	require.NoError(t, err)
	assert.Equal(t, msg, ident, "an equal varint keeps its overlong bytes")
	varint, err := rawproto.Replace(msg, "4.1", 0, "5", "6")
	require.NoError(t, err)
	wantInner = bytes.Replace(inner, []byte{0x85, 0x80, 0x00}, []byte{0x06}, 1)
	assert.Equal(t, build(wantInner, false), varint)
}

func TestReplaceMatchesTokensNotSubstrings(t *testing.T) {
	msg := marshal(t, &platform.Tx{Hash: "ord-1", Kind: "ord-1;ord-12;xord-1 ord-1", Player: "ord-12"})
	out, err := rawproto.Replace(msg, "2", 0, "ord-1", "N")
	require.NoError(t, err)
	tx := unmarshalLike(t, &platform.Tx{}, out).(*platform.Tx)
	assert.Equal(t, "N;ord-12;xord-1 N", tx.GetKind())
	assert.Equal(t, "ord-1", tx.GetHash(), "other fields untouched")

	_, err = rawproto.Replace(msg, "3", 0, "ord-1", "N")
	assert.ErrorIs(t, err, rawproto.ErrMismatch, "ord-12 does not hold the token ord-1")

	// Binary bytes are matched whole only, as the planner offers them whole.
	bin := marshal(t, &rprpb.Message{Data: []byte{0xff, '/', 'a', 'b', 'c'}})
	_, err = rawproto.Replace(bin, "3", 0, "abc", "x")
	assert.ErrorIs(t, err, rawproto.ErrMismatch)
	out, err = rawproto.Replace(bin, "3", 0, string([]byte{0xff, '/', 'a', 'b', 'c'}), "x")
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), unmarshalLike(t, &rprpb.Message{}, out).(*rprpb.Message).GetData())
}

func TestReplaceErrors(t *testing.T) {
	items := marshal(t, listItems())
	for _, tc := range []struct {
		name     string
		msg      []byte
		path     string
		nth      int
		old, new string
		want     error
		text     string
	}{
		{"bad path", items, "1.x", 0, "a", "b", rawproto.ErrBadPath, `"1.x"`},
		{"empty path", items, "", 0, "a", "b", rawproto.ErrBadPath, "empty"},
		{"no such field", items, "1.9", 0, "a", "b", rawproto.ErrNoField, "1.9 occurrence 0"},
		{"no such occurrence", items, "1.2", 3, "potion", "b", rawproto.ErrNoField, "occurrence 3"},
		{"other value", items, "1.2", 0, "potion", "b", rawproto.ErrMismatch, "1.2 occurrence 0"},
		{"no occurrence holds it", items, "1.2", rawproto.All, "axe", "b", rawproto.ErrMismatch, "occurrence -1"},
		{"not an integer", items, "1.1", 0, "101", "1e3", rawproto.ErrNotInteger, "1.1 occurrence 0"},
		{"empty old", items, "1.2", 0, "", "b", rawproto.ErrEmptyOld, ""},
		{"damage after the field", append(bytes.Clone(items), 0x12, 0x7f, 'x'), "1.2", 0, "sword-of-dawn", "b",
			rawproto.ErrBadWire, "bad length at byte " + strconv.Itoa(len(items)+1)},
		{"group", []byte{0x0a, 0x01, 'a', 0x0b}, "1", 0, "a", "b", rawproto.ErrBadWire, "wire type 3 at byte 4"},
		{"truncated fixed64", []byte{0x09, 1, 2}, "1", 0, "a", "b", rawproto.ErrBadWire, "fixed64 at byte 1"},
		{"field number zero", []byte{0x00}, "1", 0, "a", "b", rawproto.ErrBadWire, "tag at byte 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := rawproto.Replace(tc.msg, tc.path, tc.nth, tc.old, tc.new)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
			assert.Nil(t, out)
		})
	}
}

func TestReplaceAllRewritesTheWholeTree(t *testing.T) {
	tok := "tester-0001"
	in := &rprpb.Exchange{Id: 1, Session: tok,
		Request: &rprpb.Request{Path: "/v1/players/" + tok + "/inventory", Headers: []*rprpb.Header{
			{Name: "x-player", Values: []string{tok, "other", "Bearer " + tok}}}},
		Grpc: &rprpb.Grpc{Messages: []*rprpb.Message{
			{Direction: 1, Data: marshal(t, &platform.InventoryRequest{Player: tok})},
			{Direction: 2, Data: marshal(t, &platform.InventoryResponse{Player: tok, AsOfBlock: 1,
				Items: []*platform.Item{{Id: 1, Name: "a", Owner: tok}, {Id: 2, Name: tok + "x", Owner: "z"}}})},
		}}}
	clone := "tester-0001-c1"
	want := &rprpb.Exchange{Id: 1, Session: clone,
		Request: &rprpb.Request{Path: "/v1/players/" + clone + "/inventory", Headers: []*rprpb.Header{
			{Name: "x-player", Values: []string{clone, "other", "Bearer " + clone}}}},
		Grpc: &rprpb.Grpc{Messages: []*rprpb.Message{
			{Direction: 1, Data: marshal(t, &platform.InventoryRequest{Player: clone})},
			{Direction: 2, Data: marshal(t, &platform.InventoryResponse{Player: clone, AsOfBlock: 1,
				Items: []*platform.Item{{Id: 1, Name: "a", Owner: clone}, {Id: 2, Name: tok + "x", Owner: "z"}}})},
		}}}
	out, n, err := rawproto.ReplaceAll(marshal(t, in), tok, clone)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	assert.True(t, proto.Equal(want, unmarshalLike(t, want, out)), "got %v", unmarshalLike(t, want, out))

	// Varints are left alone, and no match is no change.
	msg := marshal(t, &platform.BuyRequest{Player: "p", ItemId: 42})
	out, n, err = rawproto.ReplaceAll(msg, "42", "43")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, msg, out)

	_, _, err = rawproto.ReplaceAll(msg, "", "x")
	assert.ErrorIs(t, err, rawproto.ErrEmptyOld)
	_, _, err = rawproto.ReplaceAll(append(msg, 0x0a), "p", "q")
	assert.ErrorIs(t, err, rawproto.ErrBadWire)
}

// A nested message whose bytes are all printable is a string to ScanProto,
// so it is one leaf here too, read and replaced whole.
func TestPrintableNestedMessageIsOneLeaf(t *testing.T) {
	// Field 4 varint 'A' is the printable bytes " A".
	inner := []byte{0x20, 'A'}
	msg := append([]byte{0x0a, byte(len(inner))}, inner...)
	fields, err := scan(msg)
	require.NoError(t, err)
	require.Equal(t, []scannedField{{path: "1", value: " A"}}, fields)
	got, ok := rawproto.Get(msg, "1", 0)
	assert.True(t, ok)
	assert.Equal(t, " A", got)
	_, ok = rawproto.Get(msg, "1.4", 0)
	assert.False(t, ok)
}

func TestDepthIsBounded(t *testing.T) {
	data := []byte{0x08, 0x01}
	for range 100 {
		data = append(append([]byte{0x0a}, protowire.AppendVarint(nil, uint64(len(data)))...), data...)
	}
	path := strings.TrimSuffix(strings.Repeat("1.", rawproto.MaxDepth), ".")
	fields, err := scan(data)
	require.NoError(t, err)
	require.Len(t, fields, 1)
	require.Equal(t, path, fields[0].path, "ScanProto stops descending at MaxDepth")
	got, ok := rawproto.Get(data, path, 0)
	require.True(t, ok)
	assert.Equal(t, fields[0].value, got)
	_, ok = rawproto.Get(data, path+".1", 0)
	assert.False(t, ok, "a path longer than MaxDepth is refused")
	out, err := rawproto.Replace(data, path, 0, got, "x")
	require.NoError(t, err)
	assert.Len(t, out, 2*rawproto.MaxDepth+1, "every enclosing prefix shrank")
	got, ok = rawproto.Get(out, path, 0)
	assert.True(t, ok)
	assert.Equal(t, "x", got)
}

func TestOccurrence(t *testing.T) {
	rec := marshal(t, listItems())
	live := marshal(t, &platform.ListItemsResponse{Items: []*platform.Item{
		{Id: 901, Name: "sword-of-dawn"}, {Id: 902, Name: "shield"}, {Id: 903, Name: "potion"}}})
	nth, ok := rawproto.Occurrence(rec, "1.1", "103")
	require.True(t, ok)
	assert.Equal(t, 2, nth)
	got, ok := rawproto.Get(live, "1.1", nth)
	require.True(t, ok)
	assert.Equal(t, "903", got, "the live id that stands where the recorded one stood")

	tok := marshal(t, &platform.Tx{From: "a", To: "orders/ord-5"})
	nth, ok = rawproto.Occurrence(tok, "7", "ord-5")
	assert.True(t, ok)
	assert.Zero(t, nth)
	_, ok = rawproto.Occurrence(rec, "1.2", "axe")
	assert.False(t, ok)
	_, ok = rawproto.Occurrence(rec, "bad", "potion")
	assert.False(t, ok)
}

func TestSplitLocation(t *testing.T) {
	i, p, err := rawproto.SplitLocation("[12].1.3.2")
	require.NoError(t, err)
	assert.Equal(t, 12, i)
	assert.Equal(t, "1.3.2", p)
	for _, bad := range []string{"", "1.2", "[].1", "[-1].1", "[01].1", "[1]", "[1].", "[1].a", "[x].1"} {
		_, _, err := rawproto.SplitLocation(bad)
		assert.ErrorIs(t, err, rawproto.ErrBadPath, bad)
	}
}

// Two ids in a repeated field where the live id of the first is the
// recorded id of the second: one pass puts each where its old one stood.
func TestReplaceEachAppliesEveryPairInOnePass(t *testing.T) {
	var msg []byte
	for _, id := range []string{"ord-100001", "ord-100002", "note ord-100001"} {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, id)
	}
	msg = protowire.AppendTag(msg, 2, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 1234567)

	out, matched, hit, err := rawproto.ReplaceEach(msg, "1", rawproto.All,
		[]string{"ord-100001", "ord-100002", "absent-999"}, []string{"ord-100002", "ord-100003", "x"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, false}, matched)
	assert.Equal(t, []bool{true, true, false}, hit)
	var got []string
	for i := 0; ; i++ {
		v, ok := rawproto.Get(out, "1", i)
		if !ok {
			break
		}
		got = append(got, v)
	}
	assert.Equal(t, []string{"ord-100002", "ord-100003", "note ord-100002"}, got)

	// A varint that holds the old value but gets no integer: matched, not hit.
	_, matched, hit, err = rawproto.ReplaceEach(msg, "2", rawproto.All, []string{"1234567"}, []string{"tok-x"})
	require.NoError(t, err)
	assert.Equal(t, []bool{true}, matched)
	assert.Equal(t, []bool{false}, hit)

	_, _, _, err = rawproto.ReplaceEach(msg, "9", rawproto.All, []string{"a"}, []string{"b"})
	require.ErrorIs(t, err, rawproto.ErrNoField)
}

// Item counts every occurrence of a repeated bytes field, where Get skips
// one whose bytes parse as a message: 08 01 08 01 is a message of two
// varints by chance.
func TestItemCountsEveryOccurrenceOfTheField(t *testing.T) {
	var msg []byte
	for _, id := range []string{"\xff\xfe\x01\x02", "\x08\x01\x08\x01", "\xff\xaa\x31\x32"} {
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, id)
	}
	got, ok := rawproto.Get(msg, "1", 1)
	require.True(t, ok)
	assert.Equal(t, "\xff\xaa\x31\x32", got, "Get counts the leaves ScanProto reports")
	got, ok = rawproto.Item(msg, "1", 1)
	require.True(t, ok)
	assert.Equal(t, "\x08\x01\x08\x01", got, "Item counts the field's occurrences")
	n, ok := rawproto.ItemHolding(msg, "1", "\xff\xaa\x31\x32")
	require.True(t, ok)
	assert.Equal(t, 2, n)
	_, ok = rawproto.Item(msg, "1", 3)
	assert.False(t, ok)
}
