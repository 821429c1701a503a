package session

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/recorders/redact"
)

func jwt(payload string) string {
	return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func req(addr string, kv ...string) Request {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return Request{Header: h, RemoteAddr: addr}
}

func TestExtractors(t *testing.T) {
	grpcCT := "application/grpc+proto"
	for _, tc := range []struct {
		name string
		e    Extractor
		r    Request
		want string // "" means not ok
	}{
		{"header", Header("X-Session-Id"), req("", "X-Session-Id", "s-1"), "s-1"},
		{"header case-insensitive", Header("x-session-id"), req("", "X-SESSION-ID", " s-2 "), "s-2"},
		{"header non-canonical map key", Header("X-Session-Id"),
			Request{Header: http.Header{"x-session-id": {"s-3"}}}, "s-3"},
		{"header first non-empty value", Header("X-Session-Id"), req("", "X-Session-Id", " ", "X-Session-Id", "s-4"), "s-4"},
		{"header missing", Header("X-Session-Id"), req("1.2.3.4:5"), ""},
		{"header nil map", Header("X-Session-Id"), Request{}, ""},
		{"cookie", Cookie("session"), req("", "Cookie", "theme=dark; session=abc; x=1"), "abc"},
		{"cookie quoted", Cookie("session"), req("", "Cookie", `session="q-1"`), "q-1"},
		{"cookie second header", Cookie("session"), req("", "Cookie", "a=1", "Cookie", "session=c-2"), "c-2"},
		{"cookie name is case-sensitive", Cookie("session"), req("", "Cookie", "Session=abc"), ""},
		{"cookie empty value", Cookie("session"), req("", "Cookie", "session=; session2=x"), ""},
		{"cookie no pairs", Cookie("session"), req("", "Cookie", "session"), ""},
		{"jwt-sub", JWTSub(""), req("", "Authorization", "Bearer "+jwt(`{"sub":"user-1","iat":1}`)), "user-1"},
		{"jwt-sub lowercase scheme", JWTSub(""), req("", "Authorization", "bearer "+jwt(`{"sub":"u2"}`)), "u2"},
		{"jwt-sub numeric", JWTSub(""), req("", "Authorization", "Bearer "+jwt(`{"sub":12345}`)), "12345"},
		{"jwt-sub basic auth", JWTSub(""), req("", "Authorization", "Basic dXNlcjpwdw=="), ""},
		{"jwt-sub other header bare", JWTSub("X-Id-Token"), req("", "X-Id-Token", jwt(`{"sub":"u3"}`)), "u3"},
		{"jwt-sub other header ignores authorization", JWTSub("X-Id-Token"),
			req("", "Authorization", "Bearer "+jwt(`{"sub":"u4"}`)), ""},
		{"grpc-metadata", GRPCMetadata("x-player-id"), req("", "Content-Type", grpcCT, "X-Player-Id", "p-9"), "p-9"},
		{"grpc-metadata grpc-web", GRPCMetadata("X-Player-Id"),
			req("", "Content-Type", "application/grpc-web-text", "x-player-id", "p-8"), "p-8"},
		{"grpc-metadata ignores plain http", GRPCMetadata("x-player-id"),
			req("", "Content-Type", "application/json", "X-Player-Id", "p-9"), ""},
		{"client-addr v4", ClientAddr(), req("10.1.2.3:54321"), "10.1.2.3"},
		{"client-addr v6", ClientAddr(), req("[2001:db8::1]:443"), "2001:db8::1"},
		{"client-addr v4-mapped", ClientAddr(), req("[::ffff:10.0.0.7]:80"), "10.0.0.7"},
		{"client-addr zone", ClientAddr(), req("[fe80::1%eth0]:80"), "fe80::1%eth0"},
		{"client-addr without port", ClientAddr(), req("192.0.2.1"), "192.0.2.1"},
		{"client-addr host name", ClientAddr(), req("client.internal:80"), "client.internal"},
		{"client-addr unix socket", ClientAddr(), req("@"), "@"},
		{"client-addr empty", ClientAddr(), req(""), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.e.Extract(tc.r)
			assert.Equal(t, tc.want != "", ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExtractorNames(t *testing.T) {
	assert.Equal(t, "header:x-session-id", Header("X-Session-Id").Name())
	assert.Equal(t, "cookie:Session", Cookie("Session").Name())
	assert.Equal(t, "jwt-sub", JWTSub("").Name())
	assert.Equal(t, "jwt-sub", JWTSub("authorization").Name())
	assert.Equal(t, "jwt-sub:x-id-token", JWTSub("X-Id-Token").Name())
	assert.Equal(t, "grpc-metadata:x-player-id", GRPCMetadata("X-Player-Id").Name())
	assert.Equal(t, "client-addr", ClientAddr().Name())
}

// fullRequest carries a key for every element of the default chain.
func fullRequest() http.Header {
	return http.Header{
		"X-Reprise-Session": {"reprise-1"},
		"X-Session-Id":      {"sid-1"},
		"Authorization":     {"Bearer " + jwt(`{"sub":"jwt-user"}`)},
		"Cookie":            {"session=cookie-1"},
		"Content-Type":      {"application/grpc"},
	}
}

func TestDefaultChainOrder(t *testing.T) {
	c := Default()
	require.Len(t, c, 6)
	assert.Equal(t, strings.ToLower(DefaultSpec), c.String())

	h := fullRequest()
	r := Request{Header: h, RemoteAddr: "198.51.100.4:1000"}
	steps := []struct {
		key, source, remove string
	}{
		{"reprise-1", "header:x-reprise-session", "X-Reprise-Session"},
		{"sid-1", "header:x-session-id", "X-Session-Id"},
		{"jwt-user", "jwt-sub", "Authorization"},
		{"cookie-1", "cookie:session", "Cookie"},
	}
	for _, s := range steps {
		key, source := c.Key(r)
		assert.Equal(t, s.key, key)
		assert.Equal(t, s.source, source)
		h.Del(s.remove)
	}
	// On a gRPC call, x-session-id metadata is also the X-Session-Id
	// header, which comes earlier in the chain; the fifth element is
	// checked on its own.
	assert.Equal(t, "grpc-metadata:x-session-id", c[4].Name())
	md, ok := c[4].Extract(Request{Header: http.Header{"Content-Type": {"application/grpc"}, "X-Session-Id": {"md-1"}}})
	assert.True(t, ok)
	assert.Equal(t, "md-1", md)

	key, src := c.Key(r)
	assert.Equal(t, "198.51.100.4", key)
	assert.Equal(t, "client-addr", src)

	key, src = c.Key(Request{})
	assert.Empty(t, key)
	assert.Empty(t, src)
}

func TestChainKeyEmpty(t *testing.T) {
	key, src := Chain(nil).Key(req("1.2.3.4:5"))
	assert.Empty(t, key)
	assert.Empty(t, src)
}

type customExtractor struct{}

func (customExtractor) Name() string                   { return "custom" }
func (customExtractor) Extract(Request) (string, bool) { return "custom-key", true }

func TestKeyRedacted(t *testing.T) {
	hide := func(s string) string { return "H(" + s + ")" }
	for _, tc := range []struct {
		name      string
		chain     Chain
		r         Request
		sensitive []string
		want      string
	}{
		{"cookie always hidden", Chain{Cookie("sid")}, req("", "Cookie", "sid=c"), nil, "H(c)"},
		{"plain header kept", Chain{Header("X-Session-Id")}, req("", "X-Session-Id", "s"), nil, "s"},
		{"always-sensitive header hidden", Chain{Header("Authorization")}, req("", "Authorization", "tok"), nil, "H(tok)"},
		{"caller-named header hidden", Chain{Header("X-Api-Key")}, req("", "X-Api-Key", "k"), []string{"x-api-key"}, "H(k)"},
		{"caller-named metadata hidden", Chain{GRPCMetadata("x-api-key")},
			req("", "Content-Type", "application/grpc", "X-Api-Key", "k"), []string{"X-Api-Key"}, "H(k)"},
		{"jwt subject kept", Chain{JWTSub("")}, req("", "Authorization", "Bearer "+jwt(`{"sub":"u"}`)), nil, "u"},
		{"address kept", Chain{ClientAddr()}, req("10.0.0.1:1"), nil, "10.0.0.1"},
		{"unknown extractor hidden", Chain{customExtractor{}}, req(""), nil, "H(custom-key)"},
		{"none", Chain{Cookie("sid")}, req(""), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, src := tc.chain.KeyRedacted(tc.r, hide, tc.sensitive...)
			assert.Equal(t, tc.want, key)
			_, wantSrc := tc.chain.Key(tc.r)
			assert.Equal(t, wantSrc, src)
		})
	}
}

// The hidden session key equals the placeholder of the same cookie in the
// redacted Cookie header, so sessions and headers stay linked on disk.
func TestKeyRedactedLinksToCookiePlaceholder(t *testing.T) {
	p := redact.DefaultPolicy()
	p.Key = []byte("0123456789abcdef0123456789abcdef")
	r, err := redact.New(p)
	require.NoError(t, err)
	rq := req("", "Cookie", "lang=en; session=raw-session-secret")
	key, src := Default().KeyRedacted(rq, r.Placeholder, r.SensitiveHeaders()...)
	assert.Equal(t, "cookie:session", src)
	assert.Equal(t, "lang="+r.Placeholder("en")+"; session="+key, r.Header("Cookie", rq.Header["Cookie"])[0])
	assert.NotContains(t, key, "raw-session-secret")
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ spec, names string }{
		{"header:X-A", "header:x-a"},
		{" header : X-A , cookie:Sid ", "header:x-a,cookie:Sid"},
		{"JWT-SUB,client-addr", "jwt-sub,client-addr"},
		{"jwt-sub:X-Id-Token", "jwt-sub:x-id-token"},
		{"grpc-metadata:X-Player-Id", "grpc-metadata:x-player-id"},
		{DefaultSpec, strings.ToLower(DefaultSpec)},
	} {
		c, err := Parse(tc.spec)
		require.NoError(t, err, tc.spec)
		assert.Equal(t, tc.names, c.String())
		again, err := Parse(c.String())
		require.NoError(t, err)
		assert.Equal(t, c, again, "String round-trips through Parse")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		spec, msg string
		is        error
	}{
		{"header:X-A,cokie:x", `session chain element 2 "cokie:x": unknown extractor "cokie" (want header, cookie, jwt-sub, grpc-metadata, client-addr)`, ErrUnknownExtractor},
		{"", "empty session chain", ErrEmptySpec},
		{"  ", "empty session chain", ErrEmptySpec},
		{"header:A,,client-addr", `session chain element 2 "": bad session chain element: empty element`, ErrBadElement},
		{"client-addr,", `session chain element 2 "": bad session chain element: empty element`, ErrBadElement},
		{"header", `session chain element 1 "header": bad session chain element: header needs a name (header:NAME)`, ErrBadElement},
		{"cookie:", `session chain element 1 "cookie:": bad session chain element: cookie needs a name (cookie:NAME)`, ErrBadElement},
		{"header:X A", `session chain element 1 "header:X A": bad session chain element: name "X A" has characters not allowed in a name`, ErrBadElement},
		{"jwt-sub:", `session chain element 1 "jwt-sub:": bad session chain element: jwt-sub needs a header (jwt-sub:HEADER)`, ErrBadElement},
		{"client-addr:x", `session chain element 1 "client-addr:x": bad session chain element: client-addr takes no argument`, ErrBadElement},
		{"grpc-metadata", `session chain element 1 "grpc-metadata": bad session chain element: grpc-metadata needs a key (grpc-metadata:KEY)`, ErrBadElement},
		{"header:X-A,header:x-a", `session chain element 2 "header:x-a": bad session chain element: repeats element 1`, ErrBadElement},
		{"x-session-id", `session chain element 1 "x-session-id": unknown extractor "x-session-id" (want header, cookie, jwt-sub, grpc-metadata, client-addr)`, ErrUnknownExtractor},
	} {
		_, err := Parse(tc.spec)
		require.Error(t, err, tc.spec)
		assert.Equal(t, tc.msg, err.Error())
		assert.True(t, errors.Is(err, tc.is), "%q: %v is not %v", tc.spec, err, tc.is)
	}
}

func TestSubject(t *testing.T) {
	pad := "eyJhbGciOiJub25lIn0." + base64.URLEncoding.EncodeToString([]byte(`{"sub":"padded"}`)) + "."
	std := "h." + base64.RawStdEncoding.EncodeToString([]byte(`{"sub":"std?>>"}`)) + ".s"
	require.True(t, strings.ContainsAny(std, "+/"), "the standard alphabet must show")
	for _, tc := range []struct{ in, want string }{
		{jwt(`{"sub":"a"}`), "a"},
		{"Bearer " + jwt(`{"sub":"a"}`), "a"},
		{"  Bearer   " + jwt(`{"sub":"a"}`) + " ", "a"},
		{pad, "padded"},
		{std, "std?>>"},
		{jwt(`{"sub":1.5e3}`), "1.5e3"},
		{jwt(`{"SUB":"wrong-case"}`), ""},
		{jwt(`{"sub":""}`), ""},
		{jwt(`{"sub":null}`), ""},
		{jwt(`{"sub":true}`), ""},
		{jwt(`{"sub":{"id":1}}`), ""},
		{jwt(`{"iss":"x"}`), ""},
		{jwt(`["sub"]`), ""},
		{jwt(`not json`), ""},
		{"a.b", ""},
		{"a.b.c.d.e", ""},
		{"a.!!!.c", ""},
		{"Basic " + jwt(`{"sub":"a"}`), ""},
		{"", ""},
		{"h." + strings.Repeat("A", maxJWTPayload+4) + ".s", ""},
	} {
		got, ok := Subject(tc.in)
		assert.Equal(t, tc.want != "", ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}
