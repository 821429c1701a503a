package rawproto_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
)

func seeds(f *testing.F) [][]byte {
	f.Helper()
	must := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	items := must(listItems())
	return [][]byte{
		items,
		must(&platform.BuyResponse{OrderId: "ord-1", ItemId: 9, Balance: -5, TxHash: "0x1"}),
		must(&rprpb.Exchange{Id: 9, Session: "s", Grpc: &rprpb.Grpc{FullMethod: "/a.B/C",
			Messages: []*rprpb.Message{{Data: items}, {Data: []byte("a/b?c=ord-1")}}}}),
		{0x0a, 0x02, 'o', 'k', 0x12, 0x7f},
		{0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4},
		{0x0a, 0x83, 0x80, 0x00, 0x08, 0x85, 0x00}, // overlong length and varint
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
}

// Get reads back every field ScanProto reports, under the same path and
// occurrence, and nothing past the last occurrence; any path or nth is safe.
func FuzzGet(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, "1.2", 1)
	}
	f.Add([]byte{0x08, 0x01}, "1", -1)
	f.Add([]byte{0x08, 0x01}, "01.x..", 1<<40)
	f.Fuzz(func(t *testing.T, data []byte, path string, nth int) {
		_, _ = rawproto.Get(data, path, nth)
		_, _ = rawproto.Occurrence(data, path, "x")
		_, _ = rawproto.Item(data, path, nth)
		_, _ = rawproto.ItemHolding(data, path, "x")
		fields, _ := scan(data)
		count := map[string]int{}
		for _, fl := range fields {
			got, ok := rawproto.Get(data, fl.path, fl.nth)
			require.True(t, ok, "%s #%d", fl.path, fl.nth)
			require.Equal(t, fl.value, got, "%s #%d", fl.path, fl.nth)
			count[fl.path] = fl.nth + 1
		}
		for p, n := range count {
			_, ok := rawproto.Get(data, p, n)
			require.False(t, ok, "%s has only %d occurrences", p, n)
		}
	})
}

// Replace and ReplaceAll never panic; they fail on exactly the inputs that
// are not wire format, and otherwise return wire format; replacing a value
// by itself gives the input back byte for byte.
func FuzzReplace(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, uint(1), "ord-1", "ord-22")
	}
	f.Add([]byte{0x08, 0x01}, uint(0), "1", "-3")
	f.Add([]byte{0x08, 0x01}, uint(0), "1", "x")
	f.Fuzz(func(t *testing.T, data []byte, pick uint, old, new string) {
		fields, scanErr := scan(data)
		valid := scanErr == nil
		checkOut := func(out []byte, err error, what string) {
			t.Helper()
			if !valid {
				require.ErrorIs(t, err, rawproto.ErrBadWire, what)
				require.Nil(t, out)
				return
			}
			if err != nil {
				return
			}
			require.NoError(t, plan.ScanProto(out, func(plan.ProtoField) {}), "%s: output is wire format", what)
		}

		if old != "" {
			// Every pair at once, a printable leaf that parses as a
			// message rewritten as one: the output is still wire format.
			outEach, _, errEach := rawproto.ReplaceAllEach(data, []string{old, new}, []string{new, old})
			checkOut(outEach, errEach, "ReplaceAllEach")
		}
		out, n, err := rawproto.ReplaceAll(data, old, new)
		if old == "" {
			require.ErrorIs(t, err, rawproto.ErrEmptyOld)
		} else {
			checkOut(out, err, "ReplaceAll")
			if valid {
				require.NoError(t, err)
				if n == 0 {
					require.Equal(t, data, out, "no match, no change")
				}
			}
		}
		if old != "" && valid {
			same, _, err := rawproto.ReplaceAll(data, old, old)
			require.NoError(t, err)
			require.Equal(t, data, same, "ReplaceAll(old, old) is the identity")
		}

		path, nth, value := "1", 0, old
		if len(fields) > 0 {
			fl := fields[pick%uint(len(fields))]
			path, nth, value = fl.path, fl.nth, fl.value
		}
		if value == "" {
			return
		}
		same, err := rawproto.Replace(data, path, nth, value, value)
		checkOut(same, err, "Replace identity")
		if valid && len(fields) > 0 {
			require.NoError(t, err)
			require.Equal(t, data, same, "Replace(old, old) is the identity")
		}
		out, err = rawproto.Replace(data, path, nth, value, new)
		checkOut(out, err, "Replace")
		if valid && len(fields) > 0 && err != nil {
			require.ErrorIs(t, err, rawproto.ErrNotInteger, "only a non-integer for a varint may fail")
		}
		if err == nil && len(fields) > 0 && fields[0].path != path {
			// The fields before the replaced leaf keep their bytes up to the
			// first length prefix that encloses it.
			first := fields[0]
			got, ok := rawproto.Get(out, first.path, first.nth)
			if !strings.Contains(path, ".") && !strings.Contains(first.path, ".") {
				require.True(t, ok)
				require.Equal(t, first.value, got, "a top-level field before the change")
			}
		}
		_, _ = rawproto.ReplaceFrame(rawproto.Frame(data, pick%2 == 1), path, All(pick), old, new)
		_, _, _, _ = rawproto.Unframe(data)
	})
}

// All spreads the fuzzer's pick over a specific occurrence and All.
func All(pick uint) int {
	if pick%3 == 0 {
		return rawproto.All
	}
	return int(pick % 4)
}

// A replacement that keeps the leaf's length changes only the leaf's bytes.
func TestReplaceSameLengthTouchesOnlyTheLeaf(t *testing.T) {
	in := marshal(t, listItems())
	out, err := rawproto.Replace(in, "1.4", 1, "tester-0002", "tester-9999")
	require.NoError(t, err)
	require.Len(t, out, len(in))
	diff := 0
	for i := range in {
		if in[i] != out[i] {
			diff++
		}
	}
	assert.Equal(t, 4, diff)
	assert.Equal(t, 1, bytes.Count(out, []byte("tester-9999")))
}
