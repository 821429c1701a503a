package redact

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// isPlainSecret keeps fuzzed secrets to what can be searched for verbatim
// in the output: alphanumeric, so no escaping changes it, with an upper-case
// letter among the first four bytes, so neither it nor a 4-byte prefix can
// occur inside a (lower-case) placeholder.
func isPlainSecret(s string) bool {
	if len(s) < 6 || len(s) > 64 || bareSchemes[strings.ToLower(s)] {
		return false
	}
	upper := false
	for i, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
		upper = upper || i < 4 && c >= 'A' && c <= 'Z'
	}
	return upper
}

// FuzzBody checks the body paths (JSON scanner, byte-level fallback, form)
// on arbitrary input: no panic, valid JSON stays valid, and a planted
// "password" value never survives, whole or truncated.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}],"password":"x"}`), "Secret123", uint16(10))
	f.Add([]byte(`[{"token":1e5},"s\u00e9"]`), "abCdef", uint16(0))
	f.Add([]byte(`password=1&token=&a=%zz&`), "zZzzzz", uint16(3))
	f.Add([]byte(`{"password":"unterminated`), "QWErty99", uint16(40))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nv\r\n--B--"), "mpMpmp", uint16(7))
	f.Add([]byte(`{"x":"\"password\":\"y\""}`), "Pa55word", uint16(2))
	r := newTestRedactor(f)
	f.Fuzz(func(t *testing.T, data []byte, secret string, cut uint16) {
		if _, ok := r.rewriteJSON(data, r.jsonFields); json.Valid(data) && !ok {
			t.Fatalf("scanner rejects valid JSON %q", data)
		}
		for _, ct := range []string{"application/json", "", "application/x-www-form-urlencoded",
			"multipart/form-data; boundary=B", "text/plain"} {
			body := &rprpb.Body{Data: append([]byte(nil), data...)}
			r.Body(ct, "", body)
			if strings.Contains(ct, "json") && json.Valid(data) && !json.Valid(body.Data) {
				t.Fatalf("valid JSON in, invalid out:\nin:  %q\nout: %q", data, body.Data)
			}
		}
		if !isPlainSecret(secret) || bytes.Contains(data, []byte(secret)) {
			return
		}
		inner := []byte("null")
		if json.Valid(data) {
			inner = data
		}
		doc := []byte(`{"x":` + string(inner) + `,"password":"` + secret + `","y":` + string(inner) + `}`)
		body := &rprpb.Body{Data: append([]byte(nil), doc...)}
		r.Body("application/json", "", body)
		if bytes.Contains(body.Data, []byte(secret)) {
			t.Fatalf("secret survived:\nin:  %q\nout: %q", doc, body.Data)
		}
		// Truncate anywhere after the first four bytes of the secret: the
		// fallback path must not leave the part that was captured. The
		// input before the secret may hold the same bytes, hence the count.
		start := bytes.Index(doc, []byte(secret))
		end := start + 4 + int(cut)%(len(doc)-start-3)
		body = &rprpb.Body{Data: append([]byte(nil), doc[:end]...), Truncated: true}
		r.Body("application/json", "", body)
		part := doc[start:min(end, start+len(secret))]
		if bytes.Count(body.Data, part) > bytes.Count(doc[:start], part) {
			t.Fatalf("truncated secret survived:\nin:  %q\nout: %q", doc[:end], body.Data)
		}
		form := []byte("a=1&password=" + secret + "&b=2")
		body = &rprpb.Body{Data: form}
		r.Body("application/x-www-form-urlencoded", "", body)
		if bytes.Contains(body.Data, []byte(secret)) {
			t.Fatalf("secret survived in form: %q", body.Data)
		}
	})
}

// FuzzHeader checks the header rules: no panic on any name or value, and a
// credential planted behind a known scheme or in a cookie never survives.
func FuzzHeader(f *testing.F) {
	f.Add("Authorization", "Bearer x", "Tok123456")
	f.Add("Cookie", `a=1; b="q"; ;=; c`, "cOokie99")
	f.Add("Set-Cookie", "sid=1; Path=/\nx=2", "SETcookie")
	f.Add("Location", "/a?token=1#access_token=2&x", "locAtion1")
	f.Add("X-Api-Key", "  ", "aPikey77")
	r := newTestRedactor(f)
	f.Fuzz(func(t *testing.T, name, value, secret string) {
		out := r.Header(name, []string{value, value})
		if len(out) != 2 {
			t.Fatalf("got %d values", len(out))
		}
		if !isPlainSecret(secret) || strings.Contains(value, secret) {
			return
		}
		for _, tc := range []struct{ name, value string }{
			{"Authorization", "Bearer " + secret},
			{"authorization", value + secret},
			{"Proxy-Authorization", "Basic " + secret},
			{"Cookie", value + "; sid=" + secret + "; " + value},
			{"Set-Cookie", "sid=" + secret + "; " + value},
			{"X-Api-Key", secret},
			{"Location", "/p?x=" + value + "&token=" + secret},
		} {
			got := r.Header(tc.name, []string{tc.value})
			if strings.Contains(got[0], secret) {
				t.Fatalf("%s: %q -> %q", tc.name, tc.value, got[0])
			}
		}
	})
}
