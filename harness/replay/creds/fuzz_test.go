package creds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzLoadFile(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.*")
	bad, _ := filepath.Glob("testdata/bad/*")
	for _, p := range append(seeds, bad...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: [b, {c: d}]\n"))
	f.Add([]byte(`{"a": {"b": "c"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.yaml", "fuzz.json"} {
			m, err := parse(name, data)
			if err != nil {
				if !errors.Is(err, ErrBadFile) || !strings.Contains(err.Error(), name) {
					t.Fatalf("error must wrap ErrBadFile and name the file: %v", err)
				}
				continue
			}
			if m == nil {
				t.Fatal("nil map without error")
			}
			for k, v := range m {
				if k == "" || strings.TrimSpace(v) == "" {
					t.Fatalf("empty key or token accepted: %q", k)
				}
			}
		}
	})
}
