package timeshift

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"
)

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"at":"2026-11-27T10:30:00.123Z","ms":1795775400000,"s":1795775400.5}`,
		`["2026-11-27 10:30:00", "2026-11-27t10:30:00+02:00", 1795775400000000000]`,
		`{"2026-11-27T10:30:00Z": [1795775400, {"a": "b\"c"}]}`,
		`"9999-12-31T23:59:59.999999999Z"`, `0`, `-1`, `1e9`, `{`, ``, `[1795775400,`,
	} {
		f.Add([]byte(s), int64(delta))
		f.Add([]byte(s), int64(-delta))
	}
	f.Fuzz(func(t *testing.T, body []byte, d int64) {
		in := bytes.Clone(body)
		valid := json.Valid(body)

		same, n0 := JSON(body, 0, from, to)
		if n0 != 0 || !bytes.Equal(same, in) {
			t.Fatalf("delta 0 changed the body: n=%d", n0)
		}

		out, n := JSON(body, time.Duration(d), from, to)
		if !bytes.Equal(body, in) {
			t.Fatal("input modified")
		}
		if json.Valid(out) != valid {
			t.Fatalf("validity changed: in %v, out %q", valid, out)
		}
		if n == 0 && !bytes.Equal(out, in) {
			t.Fatal("n = 0 but the body changed")
		}
		if n > 0 {
			assertSameShape(t, in, out, n)
		}
	})
}

// assertSameShape checks that out has in's structure and keys, leaf kinds
// unchanged, and at most n leaves with new values.
func assertSameShape(t *testing.T, in, out []byte, n int) {
	t.Helper()
	a, b := json.NewDecoder(bytes.NewReader(in)), json.NewDecoder(bytes.NewReader(out))
	a.UseNumber()
	b.UseNumber()
	changed := 0
	for {
		ta, ea := a.Token()
		tb, eb := b.Token()
		if errors.Is(ea, io.EOF) && errors.Is(eb, io.EOF) {
			break
		}
		if ea != nil || eb != nil {
			t.Fatalf("token errors: %v / %v", ea, eb)
		}
		switch va := ta.(type) {
		case json.Delim, bool, nil:
			if ta != tb {
				t.Fatalf("structure changed: %v -> %v", ta, tb)
			}
		case string:
			vb, ok := tb.(string)
			if !ok {
				t.Fatalf("string became %T", tb)
			}
			if va != vb {
				changed++
			}
		case json.Number:
			vb, ok := tb.(json.Number)
			if !ok {
				t.Fatalf("number became %T", tb)
			}
			if va != vb {
				changed++
			}
		}
	}
	if changed > n {
		t.Fatalf("%d values changed, n = %d", changed, n)
	}
}
