package session

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: no panic; an accepted spec round-trips through String, and a
// rejected one says which element failed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{DefaultSpec, "", ",", "cokie:x", "header:", "jwt-sub:X-Id", "client-addr:1",
		"header:a,header:A", "grpc-metadata:k\x00", "HEADER:x , cookie:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := Parse(spec)
		if err != nil {
			if !errors.Is(err, ErrEmptySpec) && !strings.HasPrefix(err.Error(), "session chain element ") {
				t.Fatalf("error does not name the element: %v", err)
			}
			return
		}
		again, err := Parse(c.String())
		if err != nil {
			t.Fatalf("%q parsed, but its String %q does not: %v", spec, c.String(), err)
		}
		if again.String() != c.String() {
			t.Fatalf("round trip changed %q to %q", c.String(), again.String())
		}
		c.Key(Request{})
	})
}

// FuzzJWTSub: no panic on any header value, and a subject found is never
// empty.
func FuzzJWTSub(f *testing.F) {
	for _, s := range []string{"Bearer " + jwt(`{"sub":"a"}`), jwt(`{"sub":1}`), "a.b.c", "Bearer ..",
		"bearer x.eyJzdWIiOiJ4In0=.y", "Basic abc", "x.e30.y", "h.eyJzdWIiOjFlOTk5OTl9.s"} {
		f.Add(s)
	}
	e := JWTSub("")
	f.Fuzz(func(t *testing.T, value string) {
		sub, ok := Subject(value)
		if ok && sub == "" {
			t.Fatalf("ok with an empty subject for %q", value)
		}
		if !ok && sub != "" {
			t.Fatalf("not ok but subject %q", sub)
		}
		got, gotOK := e.Extract(req("", "Authorization", value))
		if gotOK != ok || got != sub {
			t.Fatalf("extractor and Subject disagree on %q", value)
		}
	})
}
