package gor_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/gor"
	"github.com/reprise-dev/reprise/recorders/importers/importerstest"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/sink"
)

const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGF5ZXItNDIiLCJleHAiOjE3OTUwMDAwMDAsImlhdCI6MTc2NDI0MDAwMH0.bm90LWEtcmVhbC1zaWduYXR1cmUtMDEyMzQ1Njc4OWFiY2RlZg"

var secrets = []string{jwt, "hunter2", "ada@example.test", "rt-9f8e7d6c5b4a", "sess-abcdef123456", "query-secret-123"}

// t0 is the first timestamp of testdata/traffic.gor.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).UnixNano()

type result = importerstest.Result

func run(t *testing.T, r io.Reader, name string, opts ...importers.Option) (*result, error) {
	t.Helper()
	return importerstest.Run(t, gor.Import, r, name, opts...)
}

func fixedRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	return importerstest.FixedRedactor(t, "gor-test-key-0123456789abcdef")
}

func importTraffic(t *testing.T, opts ...importers.Option) *result {
	t.Helper()
	f, err := os.Open("testdata/traffic.gor")
	require.NoError(t, err)
	defer f.Close()
	res, err := run(t, f, "traffic.gor", opts...)
	require.NoError(t, err)
	return res
}

func byID(t *testing.T, exs []*rprpb.Exchange, id uint64) *rprpb.Exchange {
	t.Helper()
	for _, ex := range exs {
		if ex.GetId() == id {
			return ex
		}
	}
	t.Fatalf("no exchange %d", id)
	return nil
}

func TestTrafficExchanges(t *testing.T) {
	r := fixedRedactor(t)
	res := importTraffic(t, importers.WithRedactor(r))
	require.Equal(t, 1, res.SinkCalls)
	cookie := r.Placeholder("sess-abcdef123456")
	ms := func(f float64) int64 { return int64(f * 1e6) }
	want := []struct {
		method, path, query   string
		status                int32
		session, source       string
		start, firstByte, end int64
		respBody              string
	}{
		{"GET", "/v1/items", "limit=20", 200, "sess-A", "header:x-session-id", 0, ms(12.5), ms(12.8), `{"items": [{"id": "item_8f3a2c", "price": 120}]}`},
		{"POST", "/v1/login", "", 200, "sess-A", "header:x-session-id", ms(20), ms(85), ms(85.4), ""},
		{"GET", "/v1/me", "", 200, "player-42", "jwt-sub", ms(100), ms(131), ms(133.5), ""},
		{"POST", "/v1/orders", "", 201, "player-42", "jwt-sub", ms(150), ms(201), ms(201.15), `{"order_id": "ord-20261127-0042"}`},
		{"GET", "/v1/orders/ord-1", "", 200, cookie, "cookie:session", ms(300), ms(310), ms(310.09), `{"order_id": "ord-1", "status": "paid"}`},
		{"GET", "/v1/orders/ord-2", "", 200, cookie, "cookie:session", ms(320), ms(333), ms(333.09), `{"order_id": "ord-2", "status": "paid"}`},
		{"GET", "/v1/orders/ord-3", "", 200, cookie, "cookie:session", ms(340), ms(351), ms(351.09), `{"order_id": "ord-3", "status": "paid"}`},
		{"HEAD", "/healthz", "", 200, "", "", ms(400), ms(401), ms(401.01), ""},
		{"GET", "/v1/ping", "token=" + r.Placeholder("query-secret-123"), 200, "sess-C", "header:x-session-id", ms(450), ms(455), ms(455), "pong"},
		{"GET", "/v1/slow", "", 0, "sess-C", "header:x-session-id", ms(500), ms(500.07), ms(500.07), ""},
	}
	require.Len(t, res.Exchanges, len(want))
	for i, w := range want {
		ex := res.Exchanges[i]
		t.Run(fmt.Sprintf("%d %s %s", i+1, w.method, w.path), func(t *testing.T) {
			assert.Equal(t, uint64(i+1), ex.GetId())
			req := ex.GetRequest()
			assert.Equal(t, w.method, req.GetMethod())
			assert.Equal(t, w.path, req.GetPath())
			assert.Equal(t, w.query, req.GetRawQuery())
			assert.Equal(t, "http", req.GetScheme())
			assert.Equal(t, "api.example.test", req.GetHost())
			assert.Equal(t, "HTTP/1.1", req.GetProto())
			assert.Equal(t, rprpb.Protocol_PROTOCOL_HTTP1, ex.GetProtocol())
			assert.Equal(t, w.status, ex.GetResponse().GetStatus())
			assert.Equal(t, w.session, ex.GetSession())
			assert.Equal(t, w.source, ex.GetSessionSource())
			assert.Equal(t, w.start, ex.GetStartNs(), "start")
			assert.Equal(t, w.firstByte, ex.GetFirstByteNs(), "first byte")
			assert.Equal(t, w.end, ex.GetEndNs(), "end")
			if w.respBody != "" {
				assert.Equal(t, w.respBody, string(ex.GetResponse().GetBody().GetData()))
			}
		})
	}

	assert.Equal(t, "reprise import gor", res.Header.GetRecorder())
	assert.Equal(t, "imported", res.Header.GetClock().GetSource())
	assert.Equal(t, t0, res.Header.GetClock().GetAnchorUnixNano())
	assert.Equal(t, "earliest", res.Header.GetRecorderConfig()["gor.anchor"])
	assert.True(t, proto.Equal(r.Policy(), res.Header.GetRedaction()))

	st := res.Stats
	assert.Equal(t, int64(20), st.Read)
	assert.Equal(t, int64(10), st.Imported)
	assert.Equal(t, int64(1), st.Replayed)
	assert.Equal(t, int64(1), st.Unpaired)
	assert.Zero(t, st.Evicted)
	assert.Zero(t, st.OrphanResponses)
	assert.Zero(t, st.Skipped)
	assert.Equal(t, int64(4), st.Sessions)
	assert.Equal(t, int64(1), st.NoSession)
}

// TestIntoARecording imports the fixture the way the import verb does, into a
// real recording file, and reads it back.
func TestIntoARecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.rpr")
	var w *recording.Writer
	newSink := func(_ context.Context, hdr *rprpb.FileHeader) (sink.Sink, error) {
		var err error
		w, err = recording.Create(path, hdr)
		return sink.File{W: w}, err
	}
	f, err := os.Open("testdata/traffic.gor")
	require.NoError(t, err)
	defer f.Close()
	st, err := gor.Import(context.Background(), f, "traffic.gor", newSink)
	require.NoError(t, err)
	require.NotNil(t, w)
	require.NoError(t, w.Close())

	rd, err := recording.Open(path)
	require.NoError(t, err)
	defer rd.Close()
	assert.Equal(t, "reprise import gor", rd.Header().GetRecorder())
	assert.Equal(t, t0, rd.Header().GetClock().GetAnchorUnixNano())
	n := int64(0)
	for rec, err := range rd.All() {
		require.NoError(t, err)
		assert.NotNil(t, rec.GetExchange())
		n++
	}
	assert.Equal(t, st.Imported, n)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, s := range secrets {
		// The blocks are compressed, so this only catches a gross leak;
		// TestTrafficRedaction checks the records' clear bytes.
		assert.False(t, bytes.Contains(raw, []byte(s)), "secret %q in the file", s)
	}
}

func TestTrafficDetails(t *testing.T) {
	res := importTraffic(t)
	exs := res.Exchanges
	t.Run("headers in wire order", func(t *testing.T) {
		var names []string
		for _, h := range byID(t, exs, 1).GetRequest().GetHeaders() {
			names = append(names, h.GetName())
		}
		assert.Equal(t, []string{"User-Agent", "X-Session-Id", "Accept"}, names, "Host is in the host field")
	})
	t.Run("chunked request body stored de-chunked", func(t *testing.T) {
		req := byID(t, exs, 4).GetRequest()
		assert.Equal(t, `{"item_id":"item_8f3a2c","qty":1}`, string(req.GetBody().GetData()))
		assert.Equal(t, int64(33), req.GetBody().GetSize())
		assert.False(t, req.GetBody().GetTruncated())
		assert.Equal(t, "", importers.HeaderValue(req.GetHeaders(), "Transfer-Encoding"))
	})
	t.Run("chunked gzip response: de-chunked, still gzip, redacted, trailers", func(t *testing.T) {
		resp := byID(t, exs, 3).GetResponse()
		assert.Equal(t, "gzip", importers.HeaderValue(resp.GetHeaders(), "Content-Encoding"))
		assert.Equal(t, "", importers.HeaderValue(resp.GetHeaders(), "Transfer-Encoding"))
		zr, err := gzip.NewReader(bytes.NewReader(resp.GetBody().GetData()))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		var body map[string]string
		require.NoError(t, json.Unmarshal(plain, &body))
		assert.Equal(t, "player-42", body["id"])
		assert.True(t, strings.HasPrefix(body["email"], redact.PlaceholderPrefix), body["email"])
		require.Len(t, resp.GetTrailers(), 1)
		assert.Equal(t, "X-Checksum", resp.GetTrailers()[0].GetName())
		assert.Equal(t, []string{"abc123"}, resp.GetTrailers()[0].GetValues())
	})
	t.Run("keep-alive headers kept", func(t *testing.T) {
		for id := uint64(5); id <= 7; id++ {
			ex := byID(t, exs, id)
			assert.Equal(t, "keep-alive", importers.HeaderValue(ex.GetRequest().GetHeaders(), "Connection"))
			assert.Equal(t, "timeout=5", importers.HeaderValue(ex.GetResponse().GetHeaders(), "Keep-Alive"))
		}
	})
	t.Run("HEAD response has no body", func(t *testing.T) {
		resp := byID(t, exs, 8).GetResponse()
		assert.Nil(t, resp.GetBody())
		assert.Equal(t, "2", importers.HeaderValue(resp.GetHeaders(), "Content-Length"))
	})
	t.Run("unpaired", func(t *testing.T) {
		ex := byID(t, exs, 10)
		assert.Nil(t, ex.GetResponse())
		assert.Equal(t, gor.UnpairedError, ex.GetError())
	})
}

func TestTrafficRedaction(t *testing.T) {
	r := fixedRedactor(t)
	res := importTraffic(t, importers.WithRedactor(r))
	var all []byte
	for _, rec := range res.Records {
		b, err := proto.Marshal(rec)
		require.NoError(t, err)
		all = append(all, b...)
	}
	for _, s := range secrets {
		assert.False(t, bytes.Contains(all, []byte(s)), "secret %q reached the recording", s)
	}
	login := byID(t, res.Exchanges, 2)
	var body struct{ Token string }
	require.NoError(t, json.Unmarshal(login.GetResponse().GetBody().GetData(), &body))
	me := byID(t, res.Exchanges, 3)
	assert.Equal(t, "Bearer "+body.Token, importers.HeaderValue(me.GetRequest().GetHeaders(), "Authorization"),
		"the issued token and the credential sent later share a placeholder")
}

// record builds one .gor record.
func record(typ int, id string, tsMs float64, latency string, msg string) string {
	ts := t0 + int64(tsMs*1e6)
	hdr := fmt.Sprintf("%d %s %d", typ, id, ts)
	if latency != "" {
		hdr += " " + latency
	}
	return hdr + "\n" + msg + "\n🐵🙈🙉\n"
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n"
}

func ok(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// onlyReader hides Seek, as a pipe does.
type onlyReader struct{ io.Reader }

func TestAnchorFromAPipe(t *testing.T) {
	in := record(1, "b", 10, "", get("/second")) + record(1, "a", 5, "", get("/first")) +
		record(2, "a", 7, "", ok("1")) + record(2, "b", 12, "", ok("2"))

	res, err := run(t, onlyReader{strings.NewReader(in)}, "-")
	require.NoError(t, err)
	assert.Equal(t, t0+10e6, res.Header.GetClock().GetAnchorUnixNano(), "a pipe anchors at the first record")
	assert.Equal(t, "first-record", res.Header.GetRecorderConfig()["gor.anchor"])
	require.Len(t, res.Exchanges, 2)
	assert.Equal(t, "/first", res.Exchanges[0].GetRequest().GetPath(), "written when complete")
	assert.Equal(t, uint64(2), res.Exchanges[0].GetId(), "ids in request order")
	assert.Equal(t, int64(-5e6), res.Exchanges[0].GetStartNs(), "an earlier start gets a negative offset")

	res, err = run(t, strings.NewReader(in), "f.gor")
	require.NoError(t, err)
	assert.Equal(t, t0+5e6, res.Header.GetClock().GetAnchorUnixNano(), "a seekable input is pre-scanned")
	assert.Equal(t, "earliest", res.Header.GetRecorderConfig()["gor.anchor"])
	assert.Equal(t, int64(0), res.Exchanges[0].GetStartNs())
	assert.Equal(t, int64(5e6), res.Exchanges[1].GetStartNs())
}

func TestSeekableFromTheMiddle(t *testing.T) {
	junk := "not part of the capture"
	in := junk + record(1, "a", 1, "", get("/x")) + record(2, "a", 2, "", ok(""))
	r := strings.NewReader(in)
	_, err := r.Seek(int64(len(junk)), io.SeekStart)
	require.NoError(t, err)
	res, err := run(t, r, "f.gor")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1, "the pre-scan rewinds to where the reader was")
	assert.Equal(t, "/x", res.Exchanges[0].GetRequest().GetPath())
}

func TestPairing(t *testing.T) {
	t.Run("duplicate request id", func(t *testing.T) {
		in := record(1, "a", 1, "", get("/one")) + record(1, "a", 2, "", get("/two")) + record(2, "a", 3, "", ok("x"))
		res, err := run(t, strings.NewReader(in), "f.gor")
		require.NoError(t, err)
		require.Len(t, res.Exchanges, 2)
		assert.Equal(t, "/one", res.Exchanges[0].GetRequest().GetPath())
		assert.Equal(t, gor.UnpairedError, res.Exchanges[0].GetError())
		assert.Equal(t, "/two", res.Exchanges[1].GetRequest().GetPath())
		assert.Equal(t, int32(200), res.Exchanges[1].GetResponse().GetStatus())
		assert.Equal(t, int64(1), res.Stats.Unpaired)
	})
	t.Run("responses without requests", func(t *testing.T) {
		in := record(2, "x", 1, "", ok("a")) + record(2, "x", 2, "", ok("b")) + record(2, "y", 3, "", ok("c"))
		res, err := run(t, strings.NewReader(in), "f.gor")
		require.NoError(t, err)
		assert.Empty(t, res.Exchanges)
		assert.Equal(t, 1, res.SinkCalls)
		assert.Equal(t, int64(3), res.Stats.OrphanResponses)
	})
	t.Run("eviction beyond MaxPending", func(t *testing.T) {
		var in strings.Builder
		for i := range 5 {
			in.WriteString(record(1, fmt.Sprint("r", i), float64(i), "100", get(fmt.Sprint("/", i))))
		}
		for i := range 5 {
			in.WriteString(record(2, fmt.Sprint("r", i), float64(10+i), "", ok("")))
		}
		res, err := run(t, strings.NewReader(in.String()), "f.gor", importers.MaxPending(2))
		require.NoError(t, err)
		st := res.Stats
		assert.Equal(t, int64(3), st.Evicted, "r0..r2 gave up when r2..r4 arrived")
		assert.Equal(t, int64(3), st.Unpaired)
		assert.Equal(t, int64(3), st.OrphanResponses, "their responses came too late")
		require.Len(t, res.Exchanges, 5)
		var paired []string
		for _, ex := range res.Exchanges {
			if ex.GetResponse() != nil {
				paired = append(paired, ex.GetRequest().GetPath())
			} else {
				assert.Equal(t, ex.GetStartNs()+100, ex.GetEndNs(), "an unpaired request ends when it was read")
			}
		}
		assert.Equal(t, []string{"/3", "/4"}, paired)
	})
	t.Run("eviction beyond MaxPendingBytes", func(t *testing.T) {
		in := record(1, "a", 1, "", get("/a")) + record(1, "b", 2, "", get("/b")) + record(2, "a", 3, "", ok("")) + record(2, "b", 4, "", ok(""))
		one := int64(len(get("/a")))
		res, err := run(t, strings.NewReader(in), "f.gor", importers.MaxPendingBytes(one))
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.Stats.Evicted)
		assert.Equal(t, int64(1), res.Stats.OrphanResponses)
	})
}

func TestTruncatedBody(t *testing.T) {
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"
	in := record(1, "a", 1, "", get("/x")) + record(2, "a", 2, "", resp)
	res, err := run(t, strings.NewReader(in), "f.gor")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	b := res.Exchanges[0].GetResponse().GetBody()
	assert.Equal(t, "only part", string(b.GetData()))
	assert.True(t, b.GetTruncated())
	assert.Equal(t, int64(100), b.GetSize())
	assert.Equal(t, int64(1), res.Stats.TruncatedBodies)
}

func TestLastRecordWithoutSeparator(t *testing.T) {
	in := record(1, "a", 1, "", get("/x")) + strings.TrimSuffix(record(2, "a", 2, "", ok("done")), "\n🐵🙈🙉\n")
	res, err := run(t, strings.NewReader(in), "f.gor")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	assert.Equal(t, "done", string(res.Exchanges[0].GetResponse().GetBody().GetData()))
}

func TestBodyCap(t *testing.T) {
	body := strings.Repeat("z", 100)
	in := record(1, "a", 1, "", "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n"+body) + record(2, "a", 2, "", ok(body))
	res, err := run(t, strings.NewReader(in), "f.gor", importers.WithBodyCap(10))
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	for _, b := range []*rprpb.Body{res.Exchanges[0].GetRequest().GetBody(), res.Exchanges[0].GetResponse().GetBody()} {
		assert.Len(t, b.GetData(), 10)
		assert.True(t, b.GetTruncated())
		assert.Equal(t, int64(100), b.GetSize())
	}
}

func TestEmpty(t *testing.T) {
	res, err := run(t, strings.NewReader(""), "empty.gor")
	require.NoError(t, err)
	assert.Equal(t, 1, res.SinkCalls)
	assert.Empty(t, res.Exchanges)
	assert.Equal(t, int64(0), res.Header.GetClock().GetAnchorUnixNano())
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, err := os.Open("testdata/traffic.gor")
	require.NoError(t, err)
	defer f.Close()
	_, err = gor.Import(ctx, f, "traffic.gor", func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
		return &sink.Capture{}, nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func BenchmarkImport(b *testing.B) {
	data, err := os.ReadFile("testdata/traffic.gor")
	require.NoError(b, err)
	r, err := redact.New(redact.DefaultPolicy())
	require.NoError(b, err)
	newSink := func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
		return sink.Func(func(context.Context, *rprpb.Record) error { return nil }), nil
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gor.Import(context.Background(), bytes.NewReader(data), "traffic.gor", newSink, importers.WithRedactor(r)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportLarge streams 5,000 request/response pairs, so that the
// per-import set-up does not dominate.
func BenchmarkImportLarge(b *testing.B) {
	var in strings.Builder
	for i := range 5000 {
		id := fmt.Sprintf("%024x", i)
		body := fmt.Sprintf(`{"id":%d,"name":"item","token":"t-%d"}`, i, i)
		in.WriteString(record(1, id, float64(i), "100", "GET /v1/items/"+fmt.Sprint(i)+" HTTP/1.1\r\nHost: h\r\nX-Session-Id: s"+fmt.Sprint(i%50)+"\r\nAccept: application/json\r\n\r\n"))
		in.WriteString(record(2, id, float64(i)+0.5, "100", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+fmt.Sprint(len(body))+"\r\n\r\n"+body))
	}
	data := []byte(in.String())
	r, err := redact.New(redact.DefaultPolicy())
	require.NoError(b, err)
	newSink := func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
		return sink.Func(func(context.Context, *rprpb.Record) error { return nil }), nil
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st, err := gor.Import(context.Background(), bytes.NewReader(data), "large.gor", newSink, importers.WithRedactor(r))
		if err != nil || st.Imported != 5000 {
			b.Fatal(st, err)
		}
	}
}
