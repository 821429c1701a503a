package scenarios

import (
	"os"
	"path/filepath"
	"testing"

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
