package har_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/importers/har"
	"github.com/reprise-dev/reprise/recorders/importers/importerstest"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// The secrets planted in testdata/chrome.har.
const (
	jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwbGF5ZXItNDIiLCJleHAiOjE3OTUwMDAwMDAsImlhdCI6MTc2NDI0MDAwMH0.bm90LWEtcmVhbC1zaWduYXR1cmUtMDEyMzQ1Njc4OWFiY2RlZg"
)

var secrets = []string{jwt, "hunter2-Secret!", "hunter2", "ada@example.test", "rt-9f8e7d6c5b4a", "sess-abcdef123456", "AKIA-SECRET-QUERY-KEY"}

type result = importerstest.Result

func run(t *testing.T, r io.Reader, name string, opts ...importers.Option) (*result, error) {
	t.Helper()
	return importerstest.Run(t, har.Import, r, name, opts...)
}

func fixedRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	return importerstest.FixedRedactor(t, "har-test-key-0123456789abcdef")
}

func importChrome(t *testing.T, opts ...importers.Option) *result {
	t.Helper()
	f, err := os.Open("testdata/chrome.har")
	require.NoError(t, err)
	defer f.Close()
	res, err := run(t, f, "testdata/chrome.har", opts...)
	require.NoError(t, err)
	return res
}

func TestChromeExchanges(t *testing.T) {
	r := fixedRedactor(t)
	res := importChrome(t, importers.WithRedactor(r))
	require.Equal(t, 1, res.SinkCalls)
	sub := "player-42"
	cookie := r.Placeholder("sess-abcdef123456")
	fb := "har:chrome.har"
	want := []struct {
		method, host, path string
		status             int32
		proto              rprpb.Protocol
		session, source    string
	}{
		{"GET", "app.example.test", "/", 200, rprpb.Protocol_PROTOCOL_H2, fb, "har-file"},
		{"GET", "app.example.test", "/static/logo.png", 200, rprpb.Protocol_PROTOCOL_H2, fb, "har-file"},
		{"POST", "api.example.test", "/v1/login", 200, rprpb.Protocol_PROTOCOL_HTTP1, fb, "har-file"},
		{"GET", "api.example.test", "/v1/me", 200, rprpb.Protocol_PROTOCOL_H2, sub, "jwt-sub"},
		{"GET", "api.example.test", "/v1/items", 200, rprpb.Protocol_PROTOCOL_H2, sub, "jwt-sub"},
		{"POST", "api.example.test", "/v1/orders", 201, rprpb.Protocol_PROTOCOL_H2, sub, "jwt-sub"},
		{"GET", "api.example.test", "/v1/orders/ord-20261127-0042", 200, rprpb.Protocol_PROTOCOL_H2, sub, "jwt-sub"},
		{"PUT", "api.example.test", "/v1/profile", 204, rprpb.Protocol_PROTOCOL_HTTP1, cookie, "cookie:session"},
		{"GET", "metrics.example.test", "/collect", 0, rprpb.Protocol_PROTOCOL_HTTP1, fb, "har-file"},
		{"GET", "api.example.test", "/v1/live", 101, rprpb.Protocol_PROTOCOL_WEBSOCKET, cookie, "cookie:session"},
	}
	require.Len(t, res.Exchanges, len(want))
	for i, w := range want {
		ex := res.Exchanges[i]
		t.Run(w.method+" "+w.path, func(t *testing.T) {
			assert.Equal(t, uint64(i+1), ex.GetId(), "ids follow start order")
			assert.Equal(t, w.method, ex.GetRequest().GetMethod())
			assert.Equal(t, "https", ex.GetRequest().GetScheme())
			assert.Equal(t, w.host, ex.GetRequest().GetHost())
			assert.Equal(t, w.path, ex.GetRequest().GetPath())
			assert.Equal(t, w.status, ex.GetResponse().GetStatus())
			assert.Equal(t, w.proto, ex.GetProtocol())
			assert.Equal(t, w.session, ex.GetSession())
			assert.Equal(t, w.source, ex.GetSessionSource())
			assert.LessOrEqual(t, ex.GetStartNs(), ex.GetFirstByteNs())
			assert.LessOrEqual(t, ex.GetFirstByteNs(), ex.GetEndNs())
			if i > 0 {
				assert.LessOrEqual(t, res.Exchanges[i-1].GetStartNs(), ex.GetStartNs(), "written in start order")
			}
		})
	}

	hdr := res.Header
	assert.Equal(t, "reprise import har", hdr.GetRecorder())
	assert.Equal(t, "imported", hdr.GetClock().GetSource())
	assert.Equal(t, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).UnixNano(), hdr.GetClock().GetAnchorUnixNano())
	assert.Equal(t, "WebInspector 537.36", hdr.GetRecorderConfig()["har.creator"])
	assert.True(t, proto.Equal(r.Policy(), hdr.GetRedaction()))

	st := res.Stats
	assert.Equal(t, int64(10), st.Read)
	assert.Equal(t, int64(10), st.Imported)
	assert.Zero(t, st.Skipped)
	assert.Equal(t, int64(3), st.Sessions)
	assert.Equal(t, time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), st.First.UTC())
	assert.Equal(t, time.Date(2026, 11, 27, 10, 0, 2, 500_000_000, time.UTC), st.Last.UTC(), "the last WebSocket frame")
}

func find(t *testing.T, exs []*rprpb.Exchange, method, path string) *rprpb.Exchange {
	t.Helper()
	for _, ex := range exs {
		if ex.GetRequest().GetMethod() == method && ex.GetRequest().GetPath() == path {
			return ex
		}
	}
	t.Fatalf("no %s %s", method, path)
	return nil
}

func TestChromeDetails(t *testing.T) {
	res := importChrome(t)
	exs := res.Exchanges
	ms := func(f float64) int64 { return int64(f * 1e6) }

	t.Run("timings", func(t *testing.T) {
		// blocked 0.4 + dns 5.1 + connect 22.0 (ssl inside) + send 0.5 + wait 61.0, receive 0.9.
		login := find(t, exs, "POST", "/v1/login")
		assert.Equal(t, ms(150), login.GetStartNs())
		assert.Equal(t, ms(150)+ms(89), login.GetFirstByteNs())
		assert.Equal(t, ms(150)+ms(89.9), login.GetEndNs())
		// Timings of -1 count as zero; time gives the end.
		order := find(t, exs, "GET", "/v1/orders/ord-20261127-0042")
		assert.Equal(t, ms(700), order.GetStartNs())
		assert.Equal(t, ms(700)+ms(0.1), order.GetFirstByteNs())
		assert.Equal(t, ms(700)+ms(42.5), order.GetEndNs())
	})
	t.Run("headers keep order and drop pseudo-headers", func(t *testing.T) {
		me := find(t, exs, "GET", "/v1/me")
		var names []string
		for _, h := range me.GetRequest().GetHeaders() {
			names = append(names, h.GetName())
		}
		assert.Equal(t, []string{"accept", "authorization", "user-agent"}, names)
		assert.Equal(t, "HTTP/2.0", me.GetRequest().GetProto())
	})
	t.Run("query", func(t *testing.T) {
		items := find(t, exs, "GET", "/v1/items")
		q := items.GetRequest().GetRawQuery()
		assert.True(t, strings.HasPrefix(q, "limit=20&api_key="+redact.PlaceholderPrefix), q)
	})
	t.Run("json post body", func(t *testing.T) {
		order := find(t, exs, "POST", "/v1/orders")
		data := order.GetRequest().GetBody().GetData()
		assert.JSONEq(t, `{"item_id":"item_8f3a2c","qty":1}`, string(data))
		assert.Equal(t, int64(len(data)), order.GetRequest().GetBody().GetSize())
	})
	t.Run("decoded body loses content-encoding", func(t *testing.T) {
		order := find(t, exs, "POST", "/v1/orders")
		resp := order.GetResponse()
		body := resp.GetBody().GetData()
		assert.JSONEq(t, `{"order_id":"ord-20261127-0042","status":"pending"}`, string(body))
		assert.Equal(t, "", importers.HeaderValue(resp.GetHeaders(), "Content-Encoding"))
		assert.Equal(t, "54", importers.HeaderValue(resp.GetHeaders(), "content-length"))
		assert.Len(t, body, 54)
		assert.Equal(t, "/v1/orders/ord-20261127-0042", importers.HeaderValue(resp.GetHeaders(), "location"))
	})
	t.Run("base64 image", func(t *testing.T) {
		logo := find(t, exs, "GET", "/static/logo.png")
		data := logo.GetResponse().GetBody().GetData()
		assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), "decoded PNG")
		assert.Equal(t, int64(len(data)), logo.GetResponse().GetBody().GetSize())
		assert.Equal(t, uint64(4100), logo.GetConnectionId())
	})
	t.Run("form params rebuilt and redacted", func(t *testing.T) {
		profile := find(t, exs, "PUT", "/v1/profile")
		body := string(profile.GetRequest().GetBody().GetData())
		assert.True(t, strings.HasPrefix(body, "display_name=Ada+L&password="+redact.PlaceholderPrefix), body)
		assert.Nil(t, profile.GetResponse().GetBody())
	})
	t.Run("blocked request", func(t *testing.T) {
		blocked := find(t, exs, "GET", "/collect")
		assert.Nil(t, blocked.GetResponse())
		assert.Equal(t, "net::ERR_BLOCKED_BY_CLIENT", blocked.GetError())
		assert.Equal(t, blocked.GetStartNs(), blocked.GetEndNs())
		assert.Equal(t, uint64(0), blocked.GetConnectionId())
	})
	t.Run("set-cookie joined by newline is split", func(t *testing.T) {
		login := find(t, exs, "POST", "/v1/login")
		var vals []string
		for _, h := range login.GetResponse().GetHeaders() {
			if h.GetName() == "Set-Cookie" {
				vals = h.GetValues()
			}
		}
		require.Len(t, vals, 2)
		assert.True(t, strings.HasPrefix(vals[0], "session="+redact.PlaceholderPrefix), vals[0])
		assert.True(t, strings.HasSuffix(vals[0], "; Path=/; HttpOnly; Secure"), vals[0])
	})
	t.Run("websocket", func(t *testing.T) {
		live := find(t, exs, "GET", "/v1/live")
		ws := live.GetWebsocket()
		require.NotNil(t, ws)
		require.Len(t, ws.GetMessages(), 3)
		m := ws.GetMessages()
		assert.Equal(t, rprpb.Direction_DIRECTION_REQUEST, m[0].GetDirection())
		assert.Equal(t, uint32(1), m[0].GetOpcode())
		assert.Equal(t, ms(1001.234), m[0].GetAtNs())
		assert.Contains(t, string(m[0].GetData()), `"token": "`+redact.PlaceholderPrefix)
		assert.Equal(t, rprpb.Direction_DIRECTION_RESPONSE, m[2].GetDirection())
		assert.Equal(t, []byte("\x01\x02\x03binary"), m[2].GetData())
		assert.Equal(t, ms(2500), live.GetEndNs())
		assert.Equal(t, int64(9), ws.GetBytesServerToClient()-int64(len(m[1].GetData())))
	})
}

func TestChromeRedaction(t *testing.T) {
	r := fixedRedactor(t)
	res := importChrome(t, importers.WithRedactor(r))
	var all []byte
	for _, rec := range res.Records {
		b, err := proto.Marshal(rec)
		require.NoError(t, err)
		all = append(all, b...)
	}
	hb, err := proto.Marshal(res.Header)
	require.NoError(t, err)
	all = append(all, hb...)
	for _, s := range secrets {
		assert.False(t, bytes.Contains(all, []byte(s)), "secret %q reached the recording", s)
	}
	// The token the login issued and the Bearer credential sent later are
	// the same placeholder, so replay can re-correlate them.
	login := find(t, res.Exchanges, "POST", "/v1/login")
	var body struct{ Token string }
	require.NoError(t, json.Unmarshal(login.GetResponse().GetBody().GetData(), &body))
	assert.Equal(t, r.Placeholder(jwt), body.Token)
	me := find(t, res.Exchanges, "GET", "/v1/me")
	assert.Equal(t, "Bearer "+body.Token, importers.HeaderValue(me.GetRequest().GetHeaders(), "authorization"))
}

func TestBodyCap(t *testing.T) {
	res := importChrome(t, importers.WithBodyCap(16))
	logo := find(t, res.Exchanges, "GET", "/static/logo.png")
	b := logo.GetResponse().GetBody()
	assert.Len(t, b.GetData(), 16)
	assert.True(t, b.GetTruncated())
	assert.Greater(t, b.GetSize(), int64(16))
	assert.Positive(t, res.Stats.TruncatedBodies)
}

// entryHAR wraps entries in a minimal document.
func entryHAR(entries ...string) string {
	return `{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[` + strings.Join(entries, ",") + `]}}`
}

func entryJSON(start, method, url, version string, status int, extra string) string {
	e := `{"startedDateTime":"` + start + `","time":10,"request":{"method":"` + method + `","url":"` + url + `","httpVersion":"` + version +
		`","headers":[]},"response":{"status":` + itoa(status) + `,"httpVersion":"` + version + `","headers":[],"content":{"size":0}},"timings":{"send":1,"wait":5,"receive":4}`
	if extra != "" {
		e += "," + extra
	}
	return e + "}"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestOrderingAndVersions(t *testing.T) {
	doc := entryHAR(
		entryJSON("2026-01-01T00:00:02Z", "GET", "http://h/c", "HTTP/1.0", 200, ""),
		entryJSON("2026-01-01T01:00:00+01:00", "GET", "http://h/a", "h2", 200, ""),                            // same instant as 00:00:00Z
		entryJSON("2026-01-01T02:00:01.5000000+02:00", "GET", "https://h/b", "h3", 200, `"connection":"abc"`), // Fiddler's 7 digits
		entryJSON("2026-01-01T00:00:01.5000+0000", "GET", "https://h/b2", "", 200, `"connection":7`),
	)
	res, err := run(t, strings.NewReader(doc), "v.har")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 4)
	var paths, protos []string
	for _, ex := range res.Exchanges {
		paths = append(paths, ex.GetRequest().GetPath())
		protos = append(protos, ex.GetRequest().GetProto()+"/"+ex.GetProtocol().String())
	}
	assert.Equal(t, []string{"/a", "/b", "/b2", "/c"}, paths, "sorted by start, stable on ties")
	assert.Equal(t, []string{
		"HTTP/2.0/PROTOCOL_H2C", "HTTP/3.0/PROTOCOL_H2", "HTTP/1.1/PROTOCOL_HTTP1", "HTTP/1.0/PROTOCOL_HTTP1",
	}, protos)
	assert.Equal(t, int64(0), res.Exchanges[0].GetStartNs())
	assert.Equal(t, int64(1_500_000_000), res.Exchanges[1].GetStartNs())
	assert.Equal(t, int64(6_000_000), res.Exchanges[0].GetFirstByteNs(), "send + wait")
	assert.Equal(t, int64(10_000_000), res.Exchanges[0].GetEndNs())
	assert.NotZero(t, res.Exchanges[1].GetConnectionId(), "hashed")
	assert.Equal(t, uint64(7), res.Exchanges[2].GetConnectionId())
}

func grpcFrame(b []byte) string {
	out := []byte{0, 0, 0, 0, byte(len(b))}
	return base64.StdEncoding.EncodeToString(append(out, b...))
}

func TestGRPCEntry(t *testing.T) {
	e := `{"startedDateTime":"2026-01-01T00:00:00Z","time":20,
	  "request":{"method":"POST","url":"https://api.test/shop.v1.Shop/Buy","httpVersion":"HTTP/2.0",
	    "headers":[{"name":"content-type","value":"application/grpc"},{"name":"x-session-id","value":"grpc-sess"},{"name":"authorization","value":"Bearer s3cr3t-grpc-token"}],
	    "postData":{"mimeType":"application/grpc","text":"` + grpcFrame([]byte("buy")) + `","encoding":"base64"}},
	  "response":{"status":200,"httpVersion":"HTTP/2.0","headers":[{"name":"content-type","value":"application/grpc"},{"name":"grpc-status","value":"0"}],
	    "content":{"size":8,"mimeType":"application/grpc","text":"` + grpcFrame([]byte("ok")) + `","encoding":"base64"}},
	  "timings":{"blocked":1,"dns":-1,"connect":-1,"send":1,"wait":10,"receive":8}}`
	res, err := run(t, strings.NewReader(entryHAR(e)), "g.har")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	ex := res.Exchanges[0]
	assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, ex.GetProtocol())
	g := ex.GetGrpc()
	require.NotNil(t, g)
	assert.Equal(t, "/shop.v1.Shop/Buy", g.GetFullMethod())
	assert.Equal(t, rprpb.CallKind_CALL_KIND_UNARY, g.GetKind())
	assert.Equal(t, int32(0), g.GetStatusCode())
	require.Len(t, g.GetMessages(), 2)
	assert.Equal(t, "buy", string(g.GetMessages()[0].GetData()))
	assert.Equal(t, int64(1e6), g.GetMessages()[0].GetAtNs(), "sent after blocked")
	assert.Equal(t, "ok", string(g.GetMessages()[1].GetData()))
	assert.Equal(t, int64(12e6), g.GetMessages()[1].GetAtNs(), "first byte")
	assert.Equal(t, "grpc-sess", ex.GetSession())
	assert.Equal(t, "header:x-session-id", ex.GetSessionSource(), "the chain's order decides")
	raw, err := proto.Marshal(res.Records[0])
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte("s3cr3t-grpc-token")), "gRPC metadata is redacted")
}

func TestEmptyHAR(t *testing.T) {
	res, err := run(t, strings.NewReader(`{"log":{"version":"1.2","entries":[]}}`), "empty.har")
	require.NoError(t, err)
	assert.Equal(t, 1, res.SinkCalls, "the output exists even without exchanges")
	assert.Empty(t, res.Exchanges)
	assert.Equal(t, int64(0), res.Header.GetClock().GetAnchorUnixNano())
}

func TestCookiesListFeedsSession(t *testing.T) {
	e := entryJSON("2026-01-01T00:00:00Z", "GET", "https://h/x", "http/1.1", 200, "")
	e = strings.Replace(e, `"headers":[]},"response"`, `"headers":[],"cookies":[{"name":"session","value":"c00kie-val"}]},"response"`, 1)
	res, err := run(t, strings.NewReader(entryHAR(e)), "c.har")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	assert.Equal(t, "cookie:session", res.Exchanges[0].GetSessionSource())
	assert.NotContains(t, res.Exchanges[0].GetSession(), "c00kie-val")
	assert.True(t, strings.HasPrefix(res.Exchanges[0].GetSession(), redact.PlaceholderPrefix))
}

func TestSinkError(t *testing.T) {
	boom := errors.New("cannot create")
	_, err := har.Import(context.Background(), strings.NewReader(entryHAR()), "x.har",
		func(context.Context, *rprpb.FileHeader) (sink.Sink, error) { return nil, boom })
	require.ErrorIs(t, err, boom)
}

func TestNilSink(t *testing.T) {
	_, err := har.Import(context.Background(), strings.NewReader(entryHAR()), "x.har",
		func(context.Context, *rprpb.FileHeader) (sink.Sink, error) { return nil, nil })
	require.ErrorIs(t, err, importers.ErrNoSink)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, err := os.Open("testdata/chrome.har")
	require.NoError(t, err)
	defer f.Close()
	called := false
	_, err = har.Import(ctx, f, "chrome.har", func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
		called = true
		return &sink.Capture{}, nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, called)
}

// TestManyHeadersStayLinear guards against hostile inputs that would make
// header grouping quadratic: 100k distinct names would take minutes then.
func TestManyHeadersStayLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"log":{"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET","url":"http://h/","headers":[`)
	const n = 100_000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"name":"x-h` + itoa(i) + `","value":"v"}`)
	}
	b.WriteString(`]},"response":{"status":200,"headers":[],"content":{"size":0}},"timings":{}}]}}`)
	res, err := run(t, strings.NewReader(b.String()), "many.har")
	require.NoError(t, err)
	require.Len(t, res.Exchanges, 1)
	assert.Len(t, res.Exchanges[0].GetRequest().GetHeaders(), n)
}

func BenchmarkImport(b *testing.B) {
	data, err := os.ReadFile("testdata/chrome.har")
	require.NoError(b, err)
	r, err := redact.New(redact.DefaultPolicy())
	require.NoError(b, err)
	newSink := func(context.Context, *rprpb.FileHeader) (sink.Sink, error) {
		return sink.Func(func(context.Context, *rprpb.Record) error { return nil }), nil
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := har.Import(context.Background(), bytes.NewReader(data), "chrome.har", newSink, importers.WithRedactor(r)); err != nil {
			b.Fatal(err)
		}
	}
}
