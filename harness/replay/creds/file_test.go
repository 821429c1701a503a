package creds

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var wantTokens = map[string]string{
	ph1:          "live-token-one",
	ph2:          "live token two",
	"session-42": "12345",
}

// copyPrivate copies a fixture into a 0600 file: checked-out fixtures are
// usually 0644, which LoadFile rightly flags.
func copyPrivate(t *testing.T, fixture string, mode os.FileMode) string {
	t.Helper()
	b, err := os.ReadFile(fixture)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), filepath.Base(fixture))
	require.NoError(t, os.WriteFile(path, b, 0o600))
	require.NoError(t, os.Chmod(path, mode))
	return path
}

func TestLoadFile(t *testing.T) {
	for _, fixture := range []string{"testdata/tokens.yaml", "testdata/tokens.json"} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			m, err := LoadFile(copyPrivate(t, fixture, 0o600))
			require.NoError(t, err)
			assert.Equal(t, wantTokens, m)
		})
	}
}

func TestLoadFileInsecure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		path := copyPrivate(t, "testdata/tokens.yaml", mode)
		m, err := LoadFile(path)
		require.ErrorIs(t, err, ErrInsecureFile, "mode %v", mode)
		assert.Contains(t, err.Error(), path)
		assert.NotContains(t, err.Error(), "live-token-one")
		assert.Equal(t, wantTokens, m, "the map comes with the warning")
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorIs(t, err, ErrBadFile)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadFileTooBig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(path, make([]byte, MaxFileSize+1), 0o600))
	_, err := LoadFile(path)
	require.ErrorIs(t, err, ErrBadFile)
	assert.Contains(t, err.Error(), "larger than")
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "{}"} {
		m, err := parse("empty.yaml", []byte(in))
		require.NoError(t, err, "%q", in)
		assert.Empty(t, m)
	}
}

// TestParseErrors checks that each bad fixture fails with the file, the
// line and the reason, and never with the token text.
func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"nested.yaml":      ":2: key \"b\": want a string token",
		"duplicate.yaml":   ":3: key \"a\" repeats line 1",
		"list.yaml":        ":1: want a map",
		"null.yaml":        ":2: key \"b\": want a string token",
		"two-docs.yaml":    "want a single YAML document",
		"alias.yaml":       ":2: key \"b\": want a string token",
		"empty-token.yaml": ":2: key \"b\": empty token",
		"number.json":      ":3: key \"b\": want a string token",
		"duplicate.json":   ":3: key \"a\" repeats line 2",
		"truncated.json":   "unexpected end of JSON",
		"trailing.json":    ":4: data after the JSON object",
		"syntax.json":      ":4: invalid character",
		"empty-key.json":   ":2: empty key",
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", name)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			_, err = parse(path, data)
			require.ErrorIs(t, err, ErrBadFile)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), want)
			for _, tok := range []string{"one", "two", "three"} {
				assert.NotContains(t, err.Error(), `"`+tok+`"`, "a token leaked into the error")
			}
		})
	}
}
