package importers_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
	"github.com/reprise-dev/reprise/recorders/sink"
)

func TestNewConfigDefaults(t *testing.T) {
	cfg, err := importers.NewConfig()
	require.NoError(t, err)
	assert.Equal(t, importers.DefaultBodyCap, cfg.BodyCap)
	assert.Equal(t, int64(importers.DefaultMaxEntryBytes), cfg.MaxEntryBytes)
	assert.Equal(t, importers.DefaultMaxPending, cfg.MaxPending)
	assert.Equal(t, int64(importers.DefaultMaxPendingBytes), cfg.MaxPendingBytes)
	assert.False(t, cfg.SkipInvalid)
	require.NotNil(t, cfg.Redactor)
	assert.Equal(t, len(session.Default()), len(cfg.Sessions))

	other, err := importers.NewConfig()
	require.NoError(t, err)
	assert.NotEqual(t, cfg.Redactor.Policy().GetKeyId(), other.Redactor.Policy().GetKeyId(), "each import draws its own key")
}

func TestOptionsOverride(t *testing.T) {
	r := newRedactor(t)
	chain, err := session.Parse("header:x-player")
	require.NoError(t, err)
	cfg, err := importers.NewConfig(
		importers.WithSessions(chain), importers.WithRedactor(r), importers.WithBodyCap(10),
		importers.SkipInvalid(true), importers.MaxInputBytes(100), importers.MaxEntryBytes(50),
		importers.MaxPending(3), importers.MaxPendingBytes(70), importers.Labels(map[string]string{"build": "42"}),
		importers.WithBodyCap(-1), importers.WithRedactor(nil), // ignored: nonsensical values keep the last good ones
	)
	require.NoError(t, err)
	assert.Same(t, r, cfg.Redactor)
	assert.Equal(t, 10, cfg.BodyCap)
	assert.True(t, cfg.SkipInvalid)
	assert.Equal(t, int64(100), cfg.MaxInputBytes)
	assert.Equal(t, int64(50), cfg.MaxEntryBytes)
	assert.Equal(t, 3, cfg.MaxPending)
	assert.Equal(t, int64(70), cfg.MaxPendingBytes)

	hdr := cfg.Header("gor", "in.gor", 1234)
	assert.Equal(t, "reprise import gor", hdr.GetRecorder())
	assert.Equal(t, "imported", hdr.GetClock().GetSource())
	assert.Equal(t, int64(1234), hdr.GetClock().GetAnchorUnixNano())
	assert.True(t, proto.Equal(r.Policy(), hdr.GetRedaction()))
	assert.Equal(t, map[string]string{"build": "42"}, hdr.GetLabels())
	conf := hdr.GetRecorderConfig()
	assert.Equal(t, "gor", conf["format"])
	assert.Equal(t, "in.gor", conf["source"])
	assert.Equal(t, "10", conf["body_cap"])
	assert.Equal(t, "header:x-player", conf["session_chain"])
	assert.Equal(t, "true", conf["skip_invalid"])
	assert.Equal(t, "3", conf["max_pending"])
	assert.Equal(t, "100", conf["max_input_bytes"])
	assert.Equal(t, uint32(1), hdr.GetFormatVersion())
	assert.NotZero(t, hdr.GetCreatedUnixNano())
}

func newRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	p := redact.DefaultPolicy()
	p.Key = []byte("0123456789abcdef0123456789abcdef")
	r, err := redact.New(p)
	require.NoError(t, err)
	return r
}

func TestEmitRedactsThenCapsAndShifts(t *testing.T) {
	r := newRedactor(t)
	cfg, err := importers.NewConfig(importers.WithRedactor(r), importers.WithBodyCap(40))
	require.NoError(t, err)
	var capture sink.Capture
	var st importers.Stats
	anchor := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).UnixNano()
	em := importers.NewEmitter(cfg, &capture, anchor, &st)

	// The password sits across the cap: cutting before redacting would
	// leave "hunter2-Sec" behind, which no rule recognises any more.
	body := []byte(`{"user":"ada","padding":"xxxxx","password":"hunter2-Secret!"}`)
	ex := &rprpb.Exchange{
		Id:          7,
		StartNs:     anchor + 5e6,
		FirstByteNs: anchor + 8e6,
		EndNs:       anchor + 9e6,
		Request: &rprpb.Request{
			Method: "POST", Path: "/login", Headers: []*rprpb.Header{
				{Name: "Content-Type", Values: []string{"application/json"}},
				{Name: "Cookie", Values: []string{"session=sess-xyz"}},
			},
			Body: &rprpb.Body{Data: body, Size: int64(len(body))},
		},
		Grpc: &rprpb.Grpc{Messages: []*rprpb.Message{{AtNs: anchor + 6e6}}},
	}
	require.NoError(t, em.Emit(context.Background(), ex, nil, importers.Fallback{Key: "fb", Source: "test"}))

	recs := capture.Records()
	require.Len(t, recs, 1)
	got := recs[0].GetExchange()
	b := got.GetRequest().GetBody()
	assert.Len(t, b.GetData(), 40)
	assert.True(t, b.GetTruncated())
	assert.Equal(t, int64(len(body)), b.GetSize(), "size keeps the full length")
	raw, err := proto.Marshal(recs[0])
	require.NoError(t, err)
	for _, secret := range []string{"hunter2", "sess-xyz"} {
		assert.False(t, bytes.Contains(raw, []byte(secret)), "secret %q reached the sink", secret)
	}
	// The session came from the cookie, which is itself a secret.
	assert.Equal(t, "cookie:session", got.GetSessionSource())
	assert.Equal(t, r.Placeholder("sess-xyz"), got.GetSession())

	assert.Equal(t, int64(5e6), got.GetStartNs())
	assert.Equal(t, int64(8e6), got.GetFirstByteNs())
	assert.Equal(t, int64(9e6), got.GetEndNs())
	assert.Equal(t, int64(6e6), got.GetGrpc().GetMessages()[0].GetAtNs())

	assert.Equal(t, int64(1), st.Imported)
	assert.Equal(t, int64(1), st.TruncatedBodies)
	assert.Equal(t, int64(1), st.Sessions)
	assert.Equal(t, time.Unix(0, anchor+5e6), st.First)
	assert.Equal(t, time.Unix(0, anchor+9e6), st.Last)
}

func TestEmitFallbackAndSessionCount(t *testing.T) {
	cfg, err := importers.NewConfig()
	require.NoError(t, err)
	var capture sink.Capture
	var st importers.Stats
	em := importers.NewEmitter(cfg, &capture, 0, &st)
	ctx := context.Background()
	mk := func(h ...string) *rprpb.Exchange {
		ex := &rprpb.Exchange{Request: &rprpb.Request{Method: "GET", Path: "/"}}
		for i := 0; i+1 < len(h); i += 2 {
			ex.Request.Headers = append(ex.Request.Headers, &rprpb.Header{Name: h[i], Values: []string{h[i+1]}})
		}
		return ex
	}
	require.NoError(t, em.Emit(ctx, mk("X-Session-Id", "s1"), nil, importers.Fallback{}))
	require.NoError(t, em.Emit(ctx, mk("X-Session-Id", "s1"), nil, importers.Fallback{}))
	require.NoError(t, em.Emit(ctx, mk(), nil, importers.Fallback{Key: "har:x.har", Source: "har-file"}))
	require.NoError(t, em.Emit(ctx, mk(), nil, importers.Fallback{}))
	// The session header given wins over the request headers.
	require.NoError(t, em.Emit(ctx, mk(), http.Header{"X-Session-Id": {"s2"}}, importers.Fallback{}))

	recs := capture.Records()
	require.Len(t, recs, 5)
	want := [][2]string{{"s1", "header:x-session-id"}, {"s1", "header:x-session-id"}, {"har:x.har", "har-file"}, {"", ""}, {"s2", "header:x-session-id"}}
	for i, w := range want {
		assert.Equal(t, w[0], recs[i].GetExchange().GetSession(), "exchange %d", i)
		assert.Equal(t, w[1], recs[i].GetExchange().GetSessionSource(), "exchange %d", i)
	}
	assert.Equal(t, int64(3), st.Sessions)
	assert.Equal(t, int64(1), st.NoSession)
}

func TestEmitSinkError(t *testing.T) {
	cfg, err := importers.NewConfig()
	require.NoError(t, err)
	boom := errors.New("disk full")
	em := importers.NewEmitter(cfg, sink.Func(func(context.Context, *rprpb.Record) error { return boom }), 0, &importers.Stats{})
	err = em.Emit(context.Background(), &rprpb.Exchange{Id: 3, Request: &rprpb.Request{}}, nil, importers.Fallback{})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "exchange 3")
}

func grpcFrame(b []byte) []byte {
	out := []byte{0}
	out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
	return append(out, b...)
}

func TestClassify(t *testing.T) {
	hdrs := func(ct string) []*rprpb.Header {
		return []*rprpb.Header{{Name: "content-type", Values: []string{ct}}}
	}
	t.Run("grpc server streaming", func(t *testing.T) {
		reqBody := grpcFrame([]byte("req"))
		respBody := append(grpcFrame([]byte("one")), grpcFrame([]byte("two"))...)
		ex := &rprpb.Exchange{
			Request: &rprpb.Request{Path: "/pkg.Svc/Watch", Headers: hdrs("application/grpc"), Body: &rprpb.Body{Data: reqBody, Size: int64(len(reqBody))}},
			Response: &rprpb.Response{Status: 200, Headers: []*rprpb.Header{
				{Name: "content-type", Values: []string{"application/grpc"}},
				{Name: "grpc-status", Values: []string{"5"}},
				{Name: "grpc-message", Values: []string{"not%20found"}},
			}, Body: &rprpb.Body{Data: respBody, Size: int64(len(respBody))}},
		}
		importers.Classify(ex, 2, true, 100, 200, 1<<20)
		assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, ex.GetProtocol())
		g := ex.GetGrpc()
		require.NotNil(t, g)
		assert.Equal(t, "/pkg.Svc/Watch", g.GetFullMethod())
		assert.Equal(t, rprpb.CallKind_CALL_KIND_SERVER_STREAMING, g.GetKind())
		assert.Equal(t, int32(5), g.GetStatusCode())
		assert.Equal(t, "not found", g.GetStatusMessage())
		require.Len(t, g.GetMessages(), 3)
		assert.Equal(t, "req", string(g.GetMessages()[0].GetData()))
		assert.Equal(t, int64(100), g.GetMessages()[0].GetAtNs())
		assert.Equal(t, rprpb.Direction_DIRECTION_RESPONSE, g.GetMessages()[2].GetDirection())
		assert.Equal(t, int64(200), g.GetMessages()[2].GetAtNs())
		assert.Nil(t, ex.GetRequest().GetBody().GetData(), "bytes live in the messages")
		assert.Equal(t, int64(len(reqBody)), ex.GetRequest().GetBody().GetSize())
	})
	t.Run("grpc cut inside a message keeps the body", func(t *testing.T) {
		body := grpcFrame([]byte("hello"))[:7]
		ex := &rprpb.Exchange{Request: &rprpb.Request{Path: "/a.B/C", Headers: hdrs("application/grpc+proto"), Body: &rprpb.Body{Data: body}}}
		importers.Classify(ex, 2, false, 1, 2, 1<<20)
		assert.Equal(t, rprpb.Protocol_PROTOCOL_GRPC, ex.GetProtocol())
		assert.Equal(t, body, ex.GetRequest().GetBody().GetData())
		assert.Equal(t, int32(2), ex.GetGrpc().GetStatusCode(), "no response: UNKNOWN")
	})
	for _, c := range []struct {
		name  string
		ct    string
		major int
		tls   bool
		want  rprpb.Protocol
	}{
		{"http1", "application/json", 1, true, rprpb.Protocol_PROTOCOL_HTTP1},
		{"h2 over tls", "application/json", 2, true, rprpb.Protocol_PROTOCOL_H2},
		{"h2c", "text/html", 2, false, rprpb.Protocol_PROTOCOL_H2C},
		{"grpc-web stays http", "application/grpc-web+proto", 2, true, rprpb.Protocol_PROTOCOL_H2},
		{"grpc content type over http/1 is not grpc", "application/grpc", 1, false, rprpb.Protocol_PROTOCOL_HTTP1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ex := &rprpb.Exchange{Request: &rprpb.Request{Headers: hdrs(c.ct), Body: &rprpb.Body{Data: []byte("x")}}}
			importers.Classify(ex, c.major, c.tls, 0, 0, 10)
			assert.Equal(t, c.want, ex.GetProtocol())
			assert.Nil(t, ex.GetGrpc())
			assert.Equal(t, []byte("x"), ex.GetRequest().GetBody().GetData())
		})
	}
}

func TestInputError(t *testing.T) {
	cause := errors.New(`parse "::": missing protocol scheme`)
	err := importers.Invalid("trace.har", "entries[12].request.url", cause)
	assert.Equal(t, `trace.har: entries[12].request.url: parse "::": missing protocol scheme`, err.Error())
	assert.ErrorIs(t, err, importers.ErrInvalid)
	assert.ErrorIs(t, err, cause)
	assert.NotErrorIs(t, err, importers.ErrLimit)

	lim := importers.Limit("x.gor", "line 9", errors.New("too long"))
	assert.Equal(t, "x.gor: line 9: too long", lim.Error())
	assert.ErrorIs(t, fmt.Errorf("wrapped: %w", lim), importers.ErrLimit)
}

func TestStatsSkipAndString(t *testing.T) {
	var st importers.Stats
	for i := range importers.MaxReportedErrors + 5 {
		st.Skip(fmt.Errorf("bad %d", i))
	}
	assert.Equal(t, int64(importers.MaxReportedErrors+5), st.Skipped)
	assert.Len(t, st.Errors, importers.MaxReportedErrors)
	st.Read, st.Imported, st.Sessions, st.Unpaired, st.Replayed = 30, 5, 2, 1, 3
	s := st.String()
	assert.True(t, strings.HasPrefix(s, "5 exchanges imported from 30 entries, 2 sessions"), s)
	assert.Contains(t, s, "25 skipped as invalid")
	assert.Contains(t, s, "1 without response")
	assert.Contains(t, s, "3 replayed responses ignored")
	assert.NotContains(t, s, "orphan")
}

func TestHeaderHelpers(t *testing.T) {
	var l importers.HeaderList
	assert.Nil(t, l.Headers())
	l.Add("Set-Cookie", "a=1")
	l.Add("Host", "x")
	l.Add("set-cookie", "b=2")
	hs := l.Headers()
	require.Len(t, hs, 2)
	assert.Equal(t, []string{"a=1", "b=2"}, hs[0].GetValues())
	assert.Equal(t, "x", importers.HeaderValue(hs, "HOST"))
	assert.Equal(t, "", importers.HeaderValue(hs, "missing"))
	h := importers.HTTPHeader(hs)
	assert.Equal(t, []string{"a=1", "b=2"}, h.Values("Set-Cookie"))
	hs = importers.DeleteHeader(hs, "SET-COOKIE")
	require.Len(t, hs, 1)
	assert.Equal(t, "Host", hs[0].GetName())

	// Past the size where names are indexed, grouping still works.
	var big importers.HeaderList
	for i := range 40 {
		big.Add(fmt.Sprintf("X-H%d", i), "a")
	}
	got := big.Add("x-h3", "b")
	assert.Equal(t, "X-H3", got.GetName())
	assert.Equal(t, []string{"a", "b"}, got.GetValues())
	big.Add("X-New", "c")
	require.Len(t, big.Headers(), 41)
	assert.Equal(t, "X-New", big.Headers()[40].GetName())
	assert.Same(t, got, big.Headers()[3])
}
