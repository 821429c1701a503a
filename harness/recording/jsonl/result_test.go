package jsonl_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/jsonl/jsonltest"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// firstResultLine is the index in lines() of the fixture's first result:
// the header, then the nine records before the results.
const firstResultLine = 10

func TestResultShape(t *testing.T) {
	ls := lines(t, encodeFixture(t))
	require.Len(t, ls, firstResultLine+len(jsonltest.Results()))

	login := ls[firstResultLine]
	assert.Equal(t, "result", login["kind"])
	assert.EqualValues(t, 1, login["exchange_id"])
	assert.NotContains(t, login, "clone", "clone 0, the original session, is left out")
	assert.Equal(t, "player-42", login["session"])
	assert.Equal(t, "POST", login["method"])
	assert.Equal(t, "/v1/login", login["route"])
	assert.Equal(t, "2026-03-01T09:30:00.001250000Z", login["start"], "start is the intended send time")
	assert.InDelta(t, 2.25, login["latency_ms"], 1e-9, "latency is done − intended")
	assert.InDelta(t, 2.2, login["service_ms"], 1e-9, "service time is done − sent")
	assert.InDelta(t, 0.05, login["lag_ms"], 1e-9, "lag is sent − intended")
	assert.EqualValues(t, 1_250_000, login["intended_ns"])
	assert.EqualValues(t, 1_300_000, login["sent_ns"])
	assert.EqualValues(t, 3_000_000, login["first_byte_ns"])
	assert.EqualValues(t, 3_500_000, login["done_ns"])
	assert.EqualValues(t, 200, login["status"])
	assert.EqualValues(t, -1, login["grpc_status"], "-1 (not gRPC) is written as is")
	assert.EqualValues(t, 1, login["substituted"])
	assert.Equal(t, map[string]any{"body_size_ratio": 1.0}, login["diff"])

	stream := ls[firstResultLine+1]
	assert.EqualValues(t, 1, stream["clone"])
	assert.EqualValues(t, 5, stream["grpc_status"])
	assert.Equal(t, []any{"room_id", "cursor"}, stream["unresolved"])
	assert.Equal(t, map[string]any{"json_shape_changed": true, "body_size_ratio": 0.75}, stream["diff"])

	put := ls[firstResultLine+2]
	assert.Equal(t, map[string]any{"status_class_changed": true, "body_size_ratio": 0.0}, put["diff"],
		"a ratio of 0 (unknown) is still written")

	refused := ls[firstResultLine+3]
	assert.EqualValues(t, 0, refused["status"], "status is written even when there was no response")
	assert.Equal(t, "dial tcp 127.0.0.1:9090: connect: connection refused", refused["error"])
	assert.NotContains(t, refused, "first_byte_ns")

	dropped := ls[firstResultLine+4]
	assert.Equal(t, true, dropped["dropped"])
	assert.EqualValues(t, 95_000_000, dropped["intended_ns"])
	for _, k := range []string{"sent_ns", "first_byte_ns", "done_ns", "latency_ms", "service_ms", "lag_ms", "diff", "protobuf"} {
		assert.NotContains(t, dropped, k, "a request never sent has no %s", k)
	}
}

// Hand-written result lines may give only the derived figures; the integer
// offsets win whenever they are present.
func TestResultDerivedTimes(t *testing.T) {
	in := `{"kind":"header","format_version":1,"clock":{"anchor_unix_nano":1000}}
{"kind":"result","exchange_id":1,"session":"s","start":"1970-01-01T00:00:00.000002Z","lag_ms":0.003,"latency_ms":0.01,"status":200,"grpc_status":-1}
{"kind":"result","exchange_id":2,"session":"s","intended_ns":5,"sent_ns":7,"service_ms":0.002,"status":200,"grpc_status":-1}
{"kind":"result","exchange_id":3,"session":"s","start":"1999-01-01T00:00:00Z","intended_ns":5,"lag_ms":9,"sent_ns":6,"latency_ms":9,"done_ns":8,"status":200,"grpc_status":-1}
`
	_, recs, err := decodeAll(t, []byte(in))
	require.NoError(t, err)
	require.Len(t, recs, 3)

	r := recs[0].GetResult()
	require.NotNil(t, r)
	assert.EqualValues(t, 1000, r.IntendedNs, "start is relative to the header's anchor")
	assert.EqualValues(t, 4000, r.SentNs, "sent = intended + lag")
	assert.EqualValues(t, 11000, r.DoneNs, "done = intended + latency")
	assert.Zero(t, r.FirstByteNs)

	r = recs[1].GetResult()
	assert.EqualValues(t, 2007, r.DoneNs, "without latency, done = sent + service")

	r = recs[2].GetResult()
	assert.EqualValues(t, 5, r.IntendedNs)
	assert.EqualValues(t, 6, r.SentNs)
	assert.EqualValues(t, 8, r.DoneNs)
}

// JSON has no NaN or infinity; a ratio holding one travels as protobuf and
// still comes back exactly.
func TestResultNonFiniteRatioSurvives(t *testing.T) {
	for _, ratio := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		rec := &rprpb.Record{Kind: &rprpb.Record_Result{Result: &rprpb.Result{
			ExchangeId: 9, Session: "s", IntendedNs: 1, DoneNs: 2, Status: 200, GrpcStatus: -1,
			Diff: &rprpb.ResponseDiff{JsonShapeChanged: true, BodySizeRatio: ratio},
		}}}
		var buf bytes.Buffer
		require.NoError(t, jsonl.NewEncoder(&buf).Encode(rec))
		ls := lines(t, buf.Bytes())
		require.Len(t, ls, 1)
		assert.Contains(t, ls[0], "protobuf", "ratio %v", ratio)
		assert.Equal(t, "result", ls[0]["kind"], "the line still shows the view")
		_, got, err := decodeAll(t, buf.Bytes())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.True(t, proto.Equal(rec, got[0]), "ratio %v: got %v", ratio, got[0])
	}
}

func TestBadResultLines(t *testing.T) {
	const h = `{"kind":"header","format_version":1}` + "\n"
	cases := []struct {
		name, in string
		field    string
		msg      string
	}{
		{"wrong type", h + `{"kind":"result","exchange_id":1,"session":"","status":200,"grpc_status":"NOT_FOUND"}`, "grpc_status", "want an integer (int32), got JSON string"},
		{"unknown field", h + `{"kind":"result","exchange_id":1,"session":"","latency":3}`, "latency", "unknown field"},
		{"unknown diff field", h + `{"kind":"result","exchange_id":1,"session":"","diff":{"body_size_ratio":1,"status_changed":true}}`, "status_changed", "unknown field"}, // encoding/json does not give the path
		{"bad start", h + `{"kind":"result","exchange_id":1,"session":"","start":"noon"}`, "start", "RFC 3339"},
		{"huge latency", h + `{"kind":"result","exchange_id":1,"session":"","latency_ms":1e300}`, "latency_ms", "out of range"},
		{"huge lag", h + `{"kind":"result","exchange_id":1,"session":"","lag_ms":-1e300}`, "lag_ms", "out of range"},
		{"bad protobuf", h + `{"kind":"result","exchange_id":1,"session":"","protobuf":"////"}`, "protobuf", "bad protobuf"},
		{"unresolved not strings", h + `{"kind":"result","exchange_id":1,"session":"","unresolved":[1]}`, "unresolved", "want a string, got JSON number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := decodeAll(t, []byte(c.in), jsonl.Name("run.jsonl"))
			require.ErrorIs(t, err, jsonl.ErrInvalid)
			var le *jsonl.LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, 2, le.Line)
			assert.Equal(t, c.field, le.Field)
			assert.Contains(t, err.Error(), "run.jsonl: line 2: ")
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}
