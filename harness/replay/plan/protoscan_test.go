package plan_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func TestScanProtoFindsStringsVarintsAndNestedFields(t *testing.T) {
	// A real message of our own schema: nested messages, strings, varints.
	msg := &rprpb.Exchange{Id: 1234567, Session: "tester-0042",
		Request: &rprpb.Request{Method: "POST", Path: "/v1/items/9/buy"}}
	data, err := proto.Marshal(msg)
	require.NoError(t, err)
	got := map[string]string{}
	require.NoError(t, plan.ScanProto(data, func(f plan.ProtoField) {
		if f.IsVarint {
			got[f.Path] = "varint"
			return
		}
		got[f.Path] = string(f.Bytes)
	}))
	assert.Equal(t, map[string]string{
		"1":    "varint",
		"2":    "tester-0042",
		"11.1": "POST",
		"11.4": "/v1/items/9/buy",
	}, got)
}

func TestScanProtoReportsDamageWithOffset(t *testing.T) {
	var seen []string
	err := plan.ScanProto([]byte{0x0a, 0x02, 'o', 'k', 0x12, 0x7f, 'x'}, func(f plan.ProtoField) {
		seen = append(seen, string(f.Bytes))
	})
	require.ErrorIs(t, err, plan.ErrBadWire)
	assert.ErrorContains(t, err, "length at byte 5")
	assert.Equal(t, []string{"ok"}, seen, "fields before the damage are still reported")
	assert.ErrorIs(t, plan.ScanProto([]byte{0x00}, func(plan.ProtoField) {}), plan.ErrBadWire)
	assert.ErrorIs(t, plan.ScanProto([]byte{0x0b}, func(plan.ProtoField) {}), plan.ErrBadWire, "groups")
}

func TestScanProtoDepthIsBounded(t *testing.T) {
	// 100 levels of field 1 wrapping field 1: the scanner must not recurse
	// that deep, and must still return.
	data := []byte{0x08, 0x01}
	for range 100 {
		data = append(append([]byte{0x0a}, uvarint(uint64(len(data)))...), data...)
	}
	n := 0
	require.NoError(t, plan.ScanProto(data, func(plan.ProtoField) { n++ }))
	assert.Equal(t, 1, n, "the too-deep tail is reported as one bytes field")
}

func FuzzScanProto(f *testing.F) {
	msg, _ := proto.Marshal(&rprpb.Exchange{Id: 9, Session: "s",
		Grpc: &rprpb.Grpc{FullMethod: "/a.B/C", Messages: []*rprpb.Message{{Data: []byte{1, 2, 3}}}}})
	f.Add(msg)
	f.Add([]byte{0x0a, 0x02, 'o', 'k', 0x12, 0x7f})
	f.Add([]byte{0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		err := plan.ScanProto(data, func(fl plan.ProtoField) {
			if fl.IsVarint {
				assert.Nil(t, fl.Bytes)
			}
			total += len(fl.Bytes)
			assert.NotEmpty(t, fl.Path)
		})
		assert.LessOrEqual(t, total, len(data), "fields alias disjoint parts of the input")
		if err != nil {
			assert.ErrorIs(t, err, plan.ErrBadWire)
		}
		// Planning a gRPC exchange carrying the bytes never fails or panics.
		_, err = plan.Build([]*rprpb.Exchange{{Id: 1, Grpc: &rprpb.Grpc{Messages: []*rprpb.Message{
			{Direction: rprpb.Direction_DIRECTION_RESPONSE, Data: data},
			{Direction: rprpb.Direction_DIRECTION_REQUEST, Data: data, Compressed: true},
		}}}})
		assert.NoError(t, err)
	})
}
