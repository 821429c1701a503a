package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

var placeholderRE = regexp.MustCompile(`^rpr-redacted-[0-9a-f]{24}$`)

// plantedExchange carries a secret in every place the rules cover. It
// returns the exchange and every secret planted in it.
func plantedExchange(t *testing.T) (*rprpb.Exchange, []string) {
	basicCred := base64.StdEncoding.EncodeToString([]byte("alice:sEcReT-basic-pw"))
	reqJSON := `{"user":{"name":"alice","profile":{"Password":"sEcReT-nested-pw"}},` +
		`"sessions":[{"refresh_token":"sEcReT-in-array-obj"}],` +
		`"api_key":["sEcReT-arr-1","sEcReT-arr-2"],"secret":987654321,` +
		`"token":"sEcReT-esc\u002dtoken","note":"keep me"}`
	respJSON := `{"token":"sEcReT-login-token","email":"sEcReT.user@example.com","id":42}`
	ex := &rprpb.Exchange{
		Session:       "sEcReT-session-cookie",
		SessionSource: "cookie:sid",
		Request: &rprpb.Request{
			Method:   "POST",
			Path:     "/api/login",
			RawQuery: "page=2&token=sEcReT-query-token&Api_Key=sEcReT%2Fquery%2Bkey&flag",
			Headers: []*rprpb.Header{
				hdr("Authorization", "Bearer sEcReT-bearer-token"),
				hdr("Proxy-Authorization", "Basic "+basicCred),
				hdr("Cookie", "theme=dark-sEcReT-cookie-a; sid=sEcReT-session-cookie"),
				hdr("X-Api-Key", "sEcReT-api-key-header"),
				hdr("x-auth-token", "sEcReT-grpc-metadata"),
				hdr("Referer", "https://app.example/cb?state=1&access_token=sEcReT-referer#id_token=x&token=sEcReT-fragment"),
				hdr("Content-Type", "application/json"),
				hdr("Content-Encoding", "gzip"),
			},
			Trailers: []*rprpb.Header{hdr("X-Amz-Security-Token", "sEcReT-trailer")},
			Body:     &rprpb.Body{Data: gzipBytes(t, []byte(reqJSON)), Size: 999},
		},
		Response: &rprpb.Response{
			Status: 200,
			Headers: []*rprpb.Header{
				hdr("Set-Cookie", "sid=sEcReT-set-cookie; Path=/; HttpOnly", `pref="sEcReT-quoted"; Secure`),
				hdr("Location", "/next?sig=sEcReT-location-sig"),
				hdr("Content-Type", "application/json; charset=utf-8"),
			},
			Body: &rprpb.Body{Data: []byte(respJSON), Size: int64(len(respJSON))},
		},
		Websocket: &rprpb.WebSocket{Messages: []*rprpb.Message{
			{Opcode: 1, Data: []byte(`{"type":"auth","token":"sEcReT-ws-token"}`)},
			{Opcode: 1, Data: []byte(`not json "password": "sEcReT-ws-text"`)},
			{Opcode: 2, Data: []byte{0, 1, 2}},
		}},
	}
	secrets := []string{
		basicCred, "sEcReT-basic-pw", "sEcReT-nested-pw", "sEcReT-in-array-obj", "sEcReT-arr-1",
		"sEcReT-arr-2", "987654321", "sEcReT-esc", "sEcReT-login-token", "sEcReT.user@example.com",
		"sEcReT-query-token", "sEcReT%2Fquery", "sEcReT/query+key", "sEcReT-bearer-token",
		"sEcReT-cookie-a", "sEcReT-session-cookie", "sEcReT-api-key-header", "sEcReT-grpc-metadata",
		"sEcReT-referer", "sEcReT-fragment", "sEcReT-trailer", "sEcReT-set-cookie", "sEcReT-quoted",
		"sEcReT-location-sig", "sEcReT-ws-token", "sEcReT-ws-text",
	}
	return ex, secrets
}

func TestExchangeLeavesNoPlantedSecret(t *testing.T) {
	r := newTestRedactor(t)
	ex, secrets := plantedExchange(t)
	r.Exchange(ex)

	wire, err := proto.Marshal(ex)
	require.NoError(t, err)
	reqBody := gunzipBytes(t, ex.Request.Body.Data)
	require.True(t, json.Valid(reqBody), "%s", reqBody)
	require.True(t, json.Valid(ex.Response.Body.Data))
	for _, s := range secrets {
		assert.False(t, bytes.Contains(wire, []byte(s)), "secret %q in marshalled exchange", s)
		assert.False(t, bytes.Contains(reqBody, []byte(s)), "secret %q in decompressed request body", s)
	}
	// The sanity check: the secrets were really planted and the rest kept.
	assert.Contains(t, string(reqBody), `"note":"keep me"`)
	assert.Contains(t, string(reqBody), `"name":"alice"`)
	assert.True(t, strings.HasPrefix(ex.Request.RawQuery, "page=2&token=rpr-redacted-"), ex.Request.RawQuery)
	assert.True(t, strings.HasSuffix(ex.Request.RawQuery, "&flag"), ex.Request.RawQuery)
	assert.Equal(t, int64(999), ex.Request.Body.Size, "Size keeps the wire size")
	assert.Contains(t, headerValues(ex.Response.Headers, "Set-Cookie")[0], "; Path=/; HttpOnly")
	assert.Equal(t, []byte{0, 1, 2}, ex.Websocket.Messages[2].Data, "binary frames untouched")
	assert.Contains(t, headerValues(ex.Request.Headers, "Referer")[0], "state=1&")
	assert.Contains(t, headerValues(ex.Request.Headers, "Referer")[0], "#id_token=x&token=rpr-redacted-")
}

func TestExchangeIsIdempotent(t *testing.T) {
	r := newTestRedactor(t)
	once, _ := plantedExchange(t)
	r.Exchange(once)
	twice := proto.Clone(once).(*rprpb.Exchange)
	r.Exchange(twice)
	// Re-encoding a gzip body is not byte-stable, so compare decoded bodies.
	assert.Equal(t, gunzipBytes(t, once.Request.Body.Data), gunzipBytes(t, twice.Request.Body.Data))
	once.Request.Body.Data, twice.Request.Body.Data = nil, nil
	assert.True(t, proto.Equal(once, twice))
}

func TestExchangeNilParts(t *testing.T) {
	r := newTestRedactor(t)
	r.Exchange(nil)
	r.Exchange(&rprpb.Exchange{})
	r.Exchange(&rprpb.Exchange{Request: &rprpb.Request{Headers: []*rprpb.Header{nil}}, Response: &rprpb.Response{},
		Websocket: &rprpb.WebSocket{Messages: []*rprpb.Message{nil, {}}}})
}

func TestExchangeLeavesGRPCMessagesButRedactsMetadata(t *testing.T) {
	r := newTestRedactor(t)
	msg := []byte(`{"password":"not-touched-in-grpc"}`)
	ex := &rprpb.Exchange{
		Protocol: rprpb.Protocol_PROTOCOL_GRPC,
		Request: &rprpb.Request{Headers: []*rprpb.Header{
			hdr("content-type", "application/grpc"),
			hdr("authorization", "Bearer grpc-secret-token"),
		}, Body: &rprpb.Body{Data: msg}},
		Response: &rprpb.Response{Trailers: []*rprpb.Header{hdr("x-api-key", "grpc-trailer-secret")}},
		Grpc:     &rprpb.Grpc{Messages: []*rprpb.Message{{Data: msg}}},
	}
	r.Exchange(ex)
	assert.Equal(t, "Bearer "+r.Placeholder("grpc-secret-token"), ex.Request.Headers[1].Values[0])
	assert.Equal(t, r.Placeholder("grpc-trailer-secret"), ex.Response.Trailers[0].Values[0])
	assert.Equal(t, msg, ex.Grpc.Messages[0].Data)
	assert.Equal(t, msg, ex.Request.Body.Data)
}

func TestExchangeSessionKey(t *testing.T) {
	r := newTestRedactor(t)
	for _, tc := range []struct {
		source, key string
		hidden      bool
	}{
		{"cookie:sid", "raw-cookie", true},
		{"header:authorization", "raw-auth", true},
		{"header:x-api-key", "raw-api-key", true},
		{"grpc-metadata:x-auth-token", "raw-md", true},
		{"header:x-session-id", "plain-session", false},
		{"jwt-sub", "user-42", false},
		{"client-addr", "10.0.0.1", false},
	} {
		ex := &rprpb.Exchange{Session: tc.key, SessionSource: tc.source}
		r.Exchange(ex)
		if tc.hidden {
			assert.Equal(t, r.Placeholder(tc.key), ex.Session, tc.source)
		} else {
			assert.Equal(t, tc.key, ex.Session, tc.source)
		}
	}
}

// A token issued in a JSON login response and later sent as a Bearer token
// must get the same placeholder, or the replayer cannot link the two.
func TestLinkageLoginTokenToBearer(t *testing.T) {
	r := newTestRedactor(t)
	login := &rprpb.Exchange{
		Request: &rprpb.Request{Method: "POST", Path: "/login"},
		Response: &rprpb.Response{
			Headers: []*rprpb.Header{hdr("Content-Type", "application/json"), hdr("Set-Cookie", "sid=cookie-value-77; Path=/")},
			Body:    &rprpb.Body{Data: []byte(`{"data":{"access_token":"tok-abc-123","expires":3600}}`)},
		},
	}
	later := &rprpb.Exchange{Request: &rprpb.Request{
		RawQuery: "access_token=tok-abc-123",
		Headers: []*rprpb.Header{
			hdr("Authorization", "Bearer tok-abc-123"),
			hdr("Cookie", "lang=en; sid=cookie-value-77"),
		},
	}}
	r.Exchange(login)
	r.Exchange(later)

	var resp struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(login.Response.Body.Data, &resp))
	p := resp.Data.AccessToken
	require.Regexp(t, placeholderRE, p)
	assert.Equal(t, "Bearer "+p, later.Request.Headers[0].Values[0])
	assert.Equal(t, "access_token="+p, later.Request.RawQuery)

	setCookie := login.Response.Headers[1].Values[0]
	cookieP := strings.TrimSuffix(strings.TrimPrefix(setCookie, "sid="), "; Path=/")
	require.Regexp(t, placeholderRE, cookieP)
	assert.Equal(t, "lang="+r.Placeholder("en")+"; sid="+cookieP, later.Request.Headers[1].Values[0])
}

func TestPlaceholderStability(t *testing.T) {
	r := newTestRedactor(t)
	p := r.Placeholder("same-secret")
	assert.Regexp(t, placeholderRE, p)
	assert.True(t, IsPlaceholder(p))
	assert.Equal(t, p, r.Placeholder("same-secret"))
	assert.NotEqual(t, p, r.Placeholder("same-secreT"))

	again := newTestRedactor(t)
	assert.Equal(t, p, again.Placeholder("same-secret"), "same key, same placeholder")

	other, err := New(Policy{Key: bytes.Repeat([]byte{7}, 32)})
	require.NoError(t, err)
	assert.NotEqual(t, p, other.Placeholder("same-secret"), "different key, different placeholder")

	r1, err := New(Policy{})
	require.NoError(t, err)
	r2, err := New(Policy{})
	require.NoError(t, err)
	assert.NotEqual(t, r1.Placeholder("x"), r2.Placeholder("x"), "nil key draws a fresh random key")
}

func TestPlaceholderConcurrent(t *testing.T) {
	r := newTestRedactor(t)
	want := r.Placeholder("shared")
	done := make(chan string, 8)
	for range 8 {
		go func() {
			var got string
			for range 200 {
				got = r.Placeholder("shared")
			}
			done <- got
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done)
	}
}

func TestIsPlaceholder(t *testing.T) {
	assert.False(t, IsPlaceholder(""))
	assert.False(t, IsPlaceholder(PlaceholderPrefix))
	assert.False(t, IsPlaceholder(PlaceholderPrefix+strings.Repeat("A", 24)))
	assert.False(t, IsPlaceholder(PlaceholderPrefix+strings.Repeat("a", 25)))
	assert.True(t, IsPlaceholder(PlaceholderPrefix+strings.Repeat("0f", 12)))
}

func TestPolicyNeverHoldsKey(t *testing.T) {
	r := newTestRedactor(t)
	pol := r.Policy()
	assert.Equal(t, "hmac-sha256", pol.Scheme)
	assert.Equal(t, PlaceholderPrefix, pol.PlaceholderPrefix)
	assert.Regexp(t, `^[0-9a-f]{32}$`, pol.KeyId)
	assert.NotEqual(t, string(testKey), pol.KeyId)
	assert.NotContains(t, pol.KeyId, hex.EncodeToString(testKey)[:16])
	wire, err := proto.Marshal(pol)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(wire, testKey))
	assert.False(t, bytes.Contains(wire, []byte(hex.EncodeToString(testKey))))
	assert.NotEqual(t, pol.KeyId, r.Placeholder(string(testKey))[len(PlaceholderPrefix):])

	assert.Equal(t, pol.KeyId, newTestRedactor(t).Policy().KeyId, "key ID is a fingerprint")
	other, err := New(Policy{Key: bytes.Repeat([]byte{1}, 16)})
	require.NoError(t, err)
	assert.NotEqual(t, pol.KeyId, other.Policy().KeyId)

	assert.Equal(t, []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
		"X-Api-Key", "X-Auth-Token", "X-Amz-Security-Token"}, pol.Headers)
	assert.Equal(t, DefaultPolicy().QueryParams, pol.QueryParams)
	assert.Equal(t, DefaultPolicy().JSONFields, pol.JsonFields)
}

func TestNewRejectsBadPolicy(t *testing.T) {
	_, err := New(Policy{Key: []byte("short")})
	require.ErrorIs(t, err, ErrShortKey)
	_, err = New(Policy{Key: []byte{}})
	require.ErrorIs(t, err, ErrShortKey, "an empty non-nil key is a mistake, not a request for a random one")

	_, err = New(Policy{QueryParams: []string{"token", " "}})
	require.ErrorIs(t, err, ErrBadPolicy)
	assert.Contains(t, err.Error(), "query_params[1]")
}

func TestNewCopiesKey(t *testing.T) {
	key := append([]byte(nil), testKey...)
	r, err := New(Policy{Key: key})
	require.NoError(t, err)
	before := r.Placeholder("x")
	key[0] ^= 0xff
	assert.Equal(t, before, r.Placeholder("x"))
}

func TestSensitiveHeader(t *testing.T) {
	r := newTestRedactor(t)
	for _, h := range []string{"authorization", "COOKIE", "Set-Cookie", "x-api-key", "X-Amz-Security-Token"} {
		assert.True(t, r.SensitiveHeader(h), h)
	}
	assert.False(t, r.SensitiveHeader("X-Session-Id"))
	assert.Equal(t, r.Policy().Headers, r.SensitiveHeaders())
}
