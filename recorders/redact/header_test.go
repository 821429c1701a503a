package redact

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHeaderRules(t *testing.T) {
	r := newTestRedactor(t)
	P := r.Placeholder
	basic := base64.StdEncoding.EncodeToString([]byte("bob:hunter2"))
	for _, tc := range []struct {
		name   string
		header string
		in     []string
		want   []string
	}{
		{"bearer keeps scheme", "Authorization", []string{"Bearer abc.def.ghi"}, []string{"Bearer " + P("abc.def.ghi")}},
		{"lowercase name and scheme", "authorization", []string{"bearer  tok "}, []string{"bearer " + P("tok")}},
		{"basic whole credential", "Authorization", []string{"Basic " + basic}, []string{"Basic " + P(basic)}},
		{"token scheme", "Authorization", []string{"Token t-1"}, []string{"Token " + P("t-1")}},
		{"aws sigv4 remainder as one", "Authorization",
			[]string{"AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, Signature=ff"},
			[]string{"AWS4-HMAC-SHA256 " + P("Credential=AKIA/x, SignedHeaders=host, Signature=ff")}},
		{"bare credential", "Authorization", []string{"rawtoken"}, []string{P("rawtoken")}},
		{"not a scheme word", "Authorization", []string{"12ab secret"}, []string{P("12ab secret")}},
		{"scheme without credential", "Authorization", []string{"Bearer "}, []string{"Bearer"}},
		{"already a placeholder", "Authorization", []string{"Bearer " + P("x")}, []string{"Bearer " + P("x")}},
		{"proxy basic", "Proxy-Authorization", []string{"Basic " + basic}, []string{"Basic " + P(basic)}},
		{"cookie every value", "Cookie", []string{"a=1; sid=xyz"}, []string{"a=" + P("1") + "; sid=" + P("xyz")}},
		{"cookie keeps spacing and quotes", "cookie", []string{` a="q v";b=;  c=3 `},
			[]string{` a="` + P("q v") + `";b=;  c=` + P("3") + ` `}},
		{"cookie nameless", "Cookie", []string{"loneval"}, []string{P("loneval")}},
		{"several cookie fields", "Cookie", []string{"a=1", "b=2"}, []string{"a=" + P("1"), "b=" + P("2")}},
		{"set-cookie first pair only", "Set-Cookie", []string{"sid=xyz; Path=/; HttpOnly"},
			[]string{"sid=" + P("xyz") + "; Path=/; HttpOnly"}},
		{"set-cookie folded lines", "Set-Cookie", []string{"a=1; Secure\nb=2"},
			[]string{"a=" + P("1") + "; Secure\nb=" + P("2")}},
		{"set-cookie deletion", "Set-Cookie", []string{"sid=; Max-Age=0"}, []string{"sid=; Max-Age=0"}},
		{"policy header whole value", "x-api-key", []string{" k 1 "}, []string{P("k 1")}},
		{"x-amz token", "X-Amz-Security-Token", []string{"FQoGZXIvYXdzE"}, []string{P("FQoGZXIvYXdzE")}},
		{"location query", "Location", []string{"https://h/p?a=1&signature=s"}, []string{"https://h/p?a=1&signature=" + P("s")}},
		{"location fragment", "Location", []string{"/cb#access_token=t&x=1"}, []string{"/cb#access_token=" + P("t") + "&x=1"}},
		{"location plain fragment", "Location", []string{"/docs#section-2"}, []string{"/docs#section-2"}},
		{"other header untouched", "X-Request-Id", []string{"Bearer abc"}, []string{"Bearer abc"}},
		{"nil values", "Authorization", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]string(nil), tc.in...)
			got := r.Header(tc.header, tc.in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, in, tc.in, "input slice must not be modified")
		})
	}
}

func TestHeaderReturnsSameSliceWhenClean(t *testing.T) {
	r := newTestRedactor(t)
	in := []string{"text/html"}
	out := r.Header("Content-Type", in)
	assert.Same(t, &in[0], &out[0])
}

func TestHeaderCustomPolicy(t *testing.T) {
	r, err := New(Policy{Headers: []string{"X-Player-Pin"}, Key: testKey})
	assert.NoError(t, err)
	assert.Equal(t, []string{r.Placeholder("1234")}, r.Header("x-player-pin", []string{"1234"}))
	assert.Equal(t, []string{"abc"}, r.Header("X-Api-Key", []string{"abc"}), "not in this policy")
	assert.Equal(t, []string{"Bearer " + r.Placeholder("t")}, r.Header("Authorization", []string{"Bearer t"}), "always on")
}

func TestQuery(t *testing.T) {
	r := newTestRedactor(t)
	P := r.Placeholder
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"a=1&b=2", "a=1&b=2"},
		{"token=abc", "token=" + P("abc")},
		{"TOKEN=abc&x=%20y", "TOKEN=" + P("abc") + "&x=%20y"},
		{"api_key=a%2Bb", "api_key=" + P("a+b")},
		{"api%5Fkey=v", "api%5Fkey=" + P("v")},
		{"key=&token", "key=&token"},
		{"a=1&&secret=s&", "a=1&&secret=" + P("s") + "&"},
		{"password=bad%zz", "password=" + P("bad%zz")},
		{"sig=a&sig=b", "sig=" + P("a") + "&sig=" + P("b")},
		{"signature=" + P("x"), "signature=" + P("x")},
	} {
		assert.Equal(t, tc.want, r.Query(tc.in), tc.in)
	}
}
