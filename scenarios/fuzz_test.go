package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

// FuzzParse: no input panics; an accepted scenario is valid, and its YAML
// parses back to an equal scenario.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	examples, _ := filepath.Glob("examples/*.yaml")
	for _, p := range append(seeds, examples...) {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("recording: {path: a.rpr}\ntiming: {mode: rate, rate: [{at: 0s, rate: 1/s}]}\n"))
	f.Add([]byte("recording: &r {path: a.rpr}\nchecks: [{id: a.b, config: {x: *r}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			require.Nil(t, s)
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		require.NoError(t, s.Validate())
		out, err := Marshal(s)
		require.NoError(t, err)
		again, err := Parse(out, "fuzz.yaml")
		require.NoError(t, err, "re-parse of:\n%s", out)
		s.src, again.src = nil, nil
		require.Equal(t, s, again, "round trip through:\n%s", out)
	})
}

// FuzzOverrideFlags: no flag value panics, and a value the flag accepts
// either applies to a scenario or is reported as ErrInvalid naming a flag.
func FuzzOverrideFlags(f *testing.F) {
	for _, s := range []string{"0s:10,30s:100,60s:10", "10s..40s", "..2026-03-01T10:00:00Z", "5ms", "POST /v1/**", "a*,b", "1/2", "20/s"} {
		f.Add(s)
	}
	flags := []string{"rate-curve", "window", "clone-offset", "route", "session", "shard", "rate", "time-shift", "speed", "target"}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range flags {
			fs := pflag.NewFlagSet("replay", pflag.ContinueOnError)
			fs.SetOutput(nopWriter{})
			o := BindFlags(fs)
			if fs.Parse([]string{"--" + name + "=" + v}) != nil {
				continue
			}
			s, err := Parse([]byte("recording: {path: a.rpr}\ntarget: {url: 'http://127.0.0.1:1'}\namplify: {factor: 2}\n"), "s.yaml")
			require.NoError(t, err)
			if err := s.Apply(*o); err != nil {
				require.ErrorIs(t, err, ErrInvalid, "--%s=%q", name, v)
				require.Contains(t, err.Error(), "--", "--%s=%q: %v", name, v, err)
			}
		}
	})
}
