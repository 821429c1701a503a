package jsonl_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/jsonl/jsonltest"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func encodeFixture(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := jsonl.NewEncoder(&buf)
	require.NoError(t, enc.EncodeHeader(jsonltest.Header()))
	for _, rec := range jsonltest.Records() {
		require.NoError(t, enc.Encode(rec))
	}
	return buf.Bytes()
}

func decodeAll(t testing.TB, in []byte, opts ...jsonl.Option) (*rprpb.FileHeader, []*rprpb.Record, error) {
	t.Helper()
	dec := jsonl.NewDecoder(bytes.NewReader(in), opts...)
	hdr, err := dec.Header()
	if err != nil {
		return hdr, nil, err
	}
	var recs []*rprpb.Record
	for i := 0; i < 100_000; i++ {
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			return hdr, recs, nil
		}
		if err != nil {
			return hdr, recs, err
		}
		recs = append(recs, rec)
	}
	t.Fatal("decoder did not stop")
	return nil, nil, nil
}

func requireEqualRecords(t *testing.T, want, got []*rprpb.Record) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.True(t, proto.Equal(want[i], got[i]), "record %d differs:\nwant %v\ngot  %v", i, want[i], got[i])
	}
}

func TestRoundTripIsLossless(t *testing.T) {
	hdr, recs, err := decodeAll(t, encodeFixture(t))
	require.NoError(t, err)
	assert.True(t, proto.Equal(jsonltest.Header(), hdr), "header differs: %v", hdr)
	requireEqualRecords(t, jsonltest.Records(), recs)
	// The unknown fields survive, not just the known ones.
	assert.Equal(t, jsonltest.UnknownKind().ProtoReflect().GetUnknown(), recs[7].ProtoReflect().GetUnknown())
	assert.Equal(t, jsonltest.NewerExchange().GetExchange().ProtoReflect().GetUnknown(),
		recs[8].GetExchange().ProtoReflect().GetUnknown())
}

// The round trip through a real .rpr file, as `cat | import` does it.
func TestRoundTripThroughRecordingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixture.rpr")
	jsonltest.Write(t, path)
	r, err := recording.Open(path)
	require.NoError(t, err)
	defer r.Close()
	var buf bytes.Buffer
	enc := jsonl.NewEncoder(&buf)
	require.NoError(t, enc.EncodeHeader(r.Header()))
	var orig []*rprpb.Record
	for rec, err := range r.All() {
		require.NoError(t, err)
		orig = append(orig, rec)
		require.NoError(t, enc.Encode(rec))
	}
	hdr, recs, err := decodeAll(t, buf.Bytes())
	require.NoError(t, err)
	assert.True(t, proto.Equal(r.Header(), hdr))
	requireEqualRecords(t, orig, recs)
}

func TestGolden(t *testing.T) {
	got := encodeFixture(t)
	golden := filepath.Join("testdata", "cat.golden.jsonl")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// lines decodes each output line into generic JSON, as jq would see it.
func lines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var res []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m), "every line is one JSON object: %s", l)
		res = append(res, m)
	}
	return res
}

func TestShape(t *testing.T) {
	ls := lines(t, encodeFixture(t))
	require.Len(t, ls, 1+len(jsonltest.Records()))
	assert.Equal(t, "header", ls[0]["kind"])
	assert.Equal(t, "2026-03-01T09:30:00.000000000Z", ls[0]["clock"].(map[string]any)["anchor"])

	login := ls[1]
	assert.Equal(t, "exchange", login["kind"])
	assert.EqualValues(t, 1, login["id"])
	assert.Equal(t, "player-42", login["session"])
	assert.Equal(t, "http1", login["protocol"])
	assert.Equal(t, "2026-03-01T09:30:00.001250000Z", login["start"])
	assert.InDelta(t, 2.650001, login["duration_ms"], 1e-9)
	req := login["request"].(map[string]any)
	assert.Equal(t, "POST", req["method"])
	assert.Equal(t, "/v1/login", req["path"])
	// Order and repeated names are kept; a name with no value is [name].
	assert.Equal(t, []any{
		[]any{"Content-Type", "application/json"},
		[]any{"X-Session-Id", "player-42"},
		[]any{"Accept", "application/json", "text/plain"},
		[]any{"Accept", "*/*"},
		[]any{"X-Empty"},
	}, req["headers"])
	body := req["body"].(map[string]any)
	assert.Equal(t, `{"user":"ana","password":"rpr-redacted-00112233445566778899aabb"}`, body["data"], "text bodies are plain strings")
	assert.NotContains(t, body, "encoding")
	assert.EqualValues(t, 200, login["response"].(map[string]any)["status"])

	image := ls[2]["response"].(map[string]any)["body"].(map[string]any)
	assert.Equal(t, "base64", image["encoding"], "binary bodies are base64 and say so")
	assert.Equal(t, "iVBORwD//h+L", image["data"])
	assert.Equal(t, true, image["truncated"])
	assert.EqualValues(t, 204800, image["size"])

	g := ls[4]["grpc"].(map[string]any)
	assert.Equal(t, "/echo.Echo/Chat", g["method"])
	assert.EqualValues(t, 5, g["status"])
	assert.Equal(t, "bidi_streaming", g["kind"])
	msgs := g["messages"].([]any)
	require.Len(t, msgs, 4)
	m0 := msgs[0].(map[string]any)
	assert.Equal(t, "request", m0["direction"])
	assert.Equal(t, "2026-03-01T09:30:00.021100000Z", m0["at"])
	assert.EqualValues(t, 21_100_000, m0["at_ns"])
	assert.Equal(t, "9", msgs[3].(map[string]any)["direction"], "unknown enum numbers are kept as numbers")

	assert.Equal(t, "42", ls[7]["protocol"])
	assert.Equal(t, "raw", ls[8]["kind"])
	assert.Contains(t, ls[9], "protobuf", "an exchange with newer fields carries its protobuf")
	assert.Equal(t, "/v1/new", ls[9]["request"].(map[string]any)["path"], "and still shows its view")
}

func TestHeaderlessStreamGetsDefaults(t *testing.T) {
	in := `{"kind":"exchange","id":3,"session":"s","start":"2026-03-01T09:30:00.5Z","duration_ms":1.5,"ttfb_ms":0.25,` +
		`"request":{"method":"GET","path":"/x"},"response":{"status":204},` +
		`"websocket":{"messages":[{"direction":"RESPONSE","at":"2026-03-01T09:30:00.501Z","data":"hi","size":2,"opcode":1}]}}` + "\n"
	hdr, recs, err := decodeAll(t, []byte(in))
	require.NoError(t, err)
	assert.True(t, proto.Equal(jsonl.DefaultHeader(), hdr))
	require.Len(t, recs, 1)
	ex := recs[0].GetExchange()
	// Without a header the anchor is the epoch, so offsets are Unix nanoseconds.
	start := int64(1772357400_500000000)
	assert.Equal(t, start, ex.StartNs)
	assert.Equal(t, start+1_500_000, ex.EndNs)
	assert.Equal(t, start+250_000, ex.FirstByteNs)
	assert.Equal(t, "/x", ex.Request.Path)
	assert.EqualValues(t, 204, ex.Response.Status)
	m := ex.Websocket.Messages[0]
	assert.Equal(t, rprpb.Direction_DIRECTION_RESPONSE, m.Direction)
	assert.Equal(t, start+1_000_000, m.AtNs)
	assert.Equal(t, []byte("hi"), m.Data)
}

func TestIntegerTimesWinOverDerivedOnes(t *testing.T) {
	in := `{"kind":"header","format_version":1,"clock":{"anchor_unix_nano":1000}}
{"kind":"exchange","id":1,"session":"","start":"1999-01-01T00:00:00Z","start_ns":7,"duration_ms":99,"end_ns":9}
{"kind":"exchange","id":2,"session":"","start":"1970-01-01T00:00:00.000002Z","duration_ms":0.001}
`
	_, recs, err := decodeAll(t, []byte(in))
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.EqualValues(t, 7, recs[0].GetExchange().StartNs)
	assert.EqualValues(t, 9, recs[0].GetExchange().EndNs)
	assert.EqualValues(t, 1000, recs[1].GetExchange().StartNs, "start is relative to the header's anchor")
	assert.EqualValues(t, 2000, recs[1].GetExchange().EndNs)
}

func TestBlankLinesAndCRLF(t *testing.T) {
	in := "\n  \r\n" + strings.ReplaceAll(string(encodeFixture(t)), "\n", "\r\n\n")
	hdr, recs, err := decodeAll(t, []byte(in))
	require.NoError(t, err)
	assert.True(t, proto.Equal(jsonltest.Header(), hdr))
	requireEqualRecords(t, jsonltest.Records(), recs)
}

func TestEmptyInput(t *testing.T) {
	hdr, recs, err := decodeAll(t, nil)
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.True(t, proto.Equal(jsonl.DefaultHeader(), hdr))
}

func TestBadLines(t *testing.T) {
	const h = `{"kind":"header","format_version":1}` + "\n"
	const ok = `{"kind":"exchange","id":1,"session":""}` + "\n"
	cases := []struct {
		name, in string
		line     int
		field    string
		msg      string
	}{
		{"unknown kind", h + ok + `{"kind":"crash","id":2}`, 3, "kind", `unknown kind "crash"`},
		{"missing kind", h + `{"id":2}`, 2, "kind", "missing"},
		{"not JSON", h + ok + ok + `{"kind":"exchange",`, 4, "", "cut off"},
		{"syntax", h + `{"kind":"exchange","id":}`, 2, "", "bad JSON at column"},
		{"not an object", `[1,2]`, 1, "", "want an object"},
		{"wrong type", h + `{"kind":"exchange","id":1,"session":"","response":{"status":"ok"}}`, 2, "response.status", "want an integer (int32), got JSON string"},
		{"wrong type nested", h + `{"kind":"exchange","id":1,"session":"","request":{"method":"GET","path":"/","headers":[["a",1]]}}`, 2, "request.headers", "want a string, got JSON number"},
		{"unknown field", h + `{"kind":"exchange","id":1,"session":"","sesion":"x"}`, 2, "sesion", "unknown field"},
		{"empty header entry", h + `{"kind":"exchange","id":1,"session":"","request":{"method":"GET","path":"/","headers":[["a","b"],[]]}}`, 2, "request.headers[1]", "want [name, value...]"},
		{"bad base64", h + `{"kind":"exchange","id":1,"session":"","response":{"status":200,"body":{"data":"!!","encoding":"base64","size":2}}}`, 2, "response.body.data", "bad base64"},
		{"bad encoding", h + `{"kind":"exchange","id":1,"session":"","response":{"status":200,"body":{"data":"x","encoding":"hex","size":1}}}`, 2, "response.body.encoding", `unknown encoding "hex"`},
		{"bad message", h + `{"kind":"exchange","id":1,"session":"","grpc":{"method":"/a/b","status":0,"messages":[{"data":"","size":0},{"at":"yesterday","data":"","size":0}]}}`, 2, "grpc.messages[1].at", "RFC 3339"},
		{"bad enum", h + `{"kind":"exchange","id":1,"session":"","protocol":"htp1"}`, 2, "", `unknown protocol "htp1" (want http1, h2c, h2, grpc, websocket, or a number)`},
		{"header late", h + ok + h, 3, "", "header line must be the first"},
		{"trailing data", h + `{"kind":"exchange","id":1,"session":""} {}`, 2, "", "unexpected data after the object"},
		{"newer format", `{"kind":"header","format_version":2}`, 1, "format_version", "this build reads up to 1"},
		{"bad raw", h + `{"kind":"raw","protobuf":"////"}`, 2, "protobuf", "bad protobuf"},
		{"huge duration", h + `{"kind":"exchange","id":1,"session":"","duration_ms":1e300}`, 2, "duration_ms", "out of range"},
		{"start out of range", h + `{"kind":"exchange","id":1,"session":"","start":"9999-01-01T00:00:00Z"}`, 2, "start", "out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := decodeAll(t, []byte(c.in), jsonl.Name("dump.jsonl"))
			require.Error(t, err)
			require.ErrorIs(t, err, jsonl.ErrInvalid)
			var le *jsonl.LineError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, c.line, le.Line)
			assert.Equal(t, c.field, le.Field)
			assert.Contains(t, err.Error(), "dump.jsonl: line ")
			assert.Contains(t, err.Error(), c.msg)
			assert.NotContains(t, err.Error(), "Go struct", "no Go internals in messages")
		})
	}
}

func TestNewerFormatIsErrVersion(t *testing.T) {
	_, _, err := decodeAll(t, []byte(`{"kind":"header","format_version":2}`))
	assert.ErrorIs(t, err, recording.ErrVersion)
}

// A bad line is consumed: the caller may skip it and go on.
func TestDecoderContinuesAfterBadLine(t *testing.T) {
	in := `{"kind":"exchange","id":1,"session":""}
{"kind":"exchange","id":"two"}
{"kind":"exchange","id":3,"session":""}
`
	dec := jsonl.NewDecoder(strings.NewReader(in))
	rec, err := dec.Next()
	require.NoError(t, err)
	assert.EqualValues(t, 1, rec.GetExchange().GetId())
	_, err = dec.Next()
	var le *jsonl.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.Line)
	assert.Equal(t, "id", le.Field)
	rec, err = dec.Next()
	require.NoError(t, err)
	assert.EqualValues(t, 3, rec.GetExchange().GetId())
	_, err = dec.Next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestLineTooLong(t *testing.T) {
	long := `{"kind":"exchange","id":2,"session":"` + strings.Repeat("x", 200_000) + `"}`
	in := `{"kind":"exchange","id":1,"session":""}` + "\n" + long + "\n" + `{"kind":"exchange","id":3,"session":""}`
	dec := jsonl.NewDecoder(strings.NewReader(in), jsonl.MaxLineSize(100_000))
	_, err := dec.Next()
	require.NoError(t, err)
	_, err = dec.Next()
	require.ErrorIs(t, err, jsonl.ErrLineTooLong)
	var le *jsonl.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.Line)
	rec, err := dec.Next()
	require.NoError(t, err, "the decoder resumes at the next line")
	assert.EqualValues(t, 3, rec.GetExchange().GetId())
}

func TestEncoderWritesWholeLines(t *testing.T) {
	var w countingWriter
	enc := jsonl.NewEncoder(&w)
	require.NoError(t, enc.EncodeHeader(jsonltest.Header()))
	for _, rec := range jsonltest.Records() {
		require.NoError(t, enc.Encode(rec))
	}
	assert.Equal(t, 1+len(jsonltest.Records()), w.writes, "one Write per line")
	for _, chunk := range w.chunks {
		assert.Equal(t, 1, bytes.Count(chunk, []byte("\n")))
		assert.True(t, bytes.HasSuffix(chunk, []byte("\n")))
	}
}

type countingWriter struct {
	writes int
	chunks [][]byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.chunks = append(w.chunks, append([]byte(nil), p...))
	return len(p), nil
}

func TestEncoderReportsWriteErrors(t *testing.T) {
	enc := jsonl.NewEncoder(failingWriter{})
	err := enc.Encode(jsonltest.Records()[0])
	require.ErrorIs(t, err, errDiskFull)
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// A field from a newer schema anywhere in an exchange (here: in a header, a
// body, a gRPC message, a WebSocket frame) makes the line carry the whole
// protobuf, so the round trip keeps it.
func TestUnknownFieldsAnywhereSurvive(t *testing.T) {
	unknownBytes := protowire.AppendVarint(protowire.AppendTag(nil, 77, protowire.VarintType), 1)
	recs := jsonltest.Records()
	places := map[string]func() proto.Message{
		"request header":  func() proto.Message { return recs[0].GetExchange().Request.Headers[2] },
		"response body":   func() proto.Message { return recs[0].GetExchange().Response.Body },
		"trailer":         func() proto.Message { return recs[2].GetExchange().Response.Trailers[0] },
		"grpc message":    func() proto.Message { return recs[3].GetExchange().Grpc.Messages[1] },
		"grpc":            func() proto.Message { return recs[3].GetExchange().Grpc },
		"websocket frame": func() proto.Message { return recs[4].GetExchange().Websocket.Messages[3] },
		"record":          func() proto.Message { return recs[5] },
		"result":          func() proto.Message { return recs[9].GetResult() },
		"response diff":   func() proto.Message { return recs[10].GetResult().Diff },
		"result record":   func() proto.Message { return recs[11] },
	}
	for name, place := range places {
		t.Run(name, func(t *testing.T) {
			m := place()
			m.ProtoReflect().SetUnknown(unknownBytes)
			defer m.ProtoReflect().SetUnknown(nil)
			var owner *rprpb.Record
			for i, r := range recs {
				if i == 7 || i == 8 {
					continue // the fixture's raw record and newer exchange always hold unknown bytes
				}
				if hasUnknownBytes(r) {
					owner = r
				}
			}
			require.NotNil(t, owner)
			var buf bytes.Buffer
			require.NoError(t, jsonl.NewEncoder(&buf).Encode(owner))
			assert.Contains(t, buf.String(), `"protobuf":"`)
			_, got, err := decodeAll(t, buf.Bytes())
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.True(t, proto.Equal(owner, got[0]))
		})
	}
	// Without unknown fields no line carries protobuf.
	assert.Equal(t, 2, bytes.Count(encodeFixture(t), []byte(`"protobuf":"`)), "only the fixture's raw record and newer exchange")
}

func hasUnknownBytes(rec *rprpb.Record) bool {
	b, err := proto.Marshal(rec)
	if err != nil {
		return false
	}
	clean := proto.Clone(rec)
	proto.Reset(clean)
	_ = proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, clean)
	return !proto.Equal(rec, clean)
}
