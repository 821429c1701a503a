package replay

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/cli"
)

const anchor = 1_700_000_000 // 2023-11-14T22:13:20Z, the sample recordings' clock anchor

// Placeholders the recording holds where a token was, with no login in it
// to re-correlate them from: only a credentials provider can fill them.
const (
	phCarol = "rpr-redacted-00000000000000000000000c"
	phDave  = "rpr-redacted-00000000000000000000000d"
)

// tokenRecording has two sessions that each call /v1/me with a redacted
// bearer token, and post a JSON body stamped with the recording's time.
func tokenRecording(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.rpr")
	w, err := recording.Create(path, &rprpb.FileHeader{FormatVersion: recording.FormatVersion, Recorder: "test",
		Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: anchor * 1e9}})
	require.NoError(t, err)
	id := uint64(0)
	for k, s := range []struct{ sess, ph string }{{"carol", phCarol}, {"dave", phDave}} {
		start := int64(k) * 1e6
		for _, req := range []*rprpb.Request{
			{Method: "GET", Path: "/v1/me", Headers: []*rprpb.Header{{Name: "Authorization", Values: []string{"Bearer " + s.ph}}}},
			{Method: "POST", Path: "/v1/events", Headers: []*rprpb.Header{{Name: "Content-Type", Values: []string{"application/json"}}},
				Body: &rprpb.Body{Data: []byte(`{"kind":"ping","at":"2023-11-14T22:13:20.5Z"}`)}},
		} {
			id++
			ex := &rprpb.Exchange{Id: id, Session: s.sess, ConnectionId: uint64(k + 1), Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
				StartNs: start, EndNs: start + 1e6, Request: req,
				Response: &rprpb.Response{Status: 200, Body: &rprpb.Body{Data: []byte(`{}`)}}}
			require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}))
			start += 2e6
		}
	}
	require.NoError(t, w.Close())
	return path
}

// seen is what a target received: per session-identifying token, and the
// event bodies.
type seen struct {
	mu     sync.Mutex
	auth   []string
	bodies []string
}

func newTokenTarget(t *testing.T) (*httptest.Server, *seen) {
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		if r.URL.Path == "/v1/me" {
			s.auth = append(s.auth, r.Header.Get("Authorization"))
		} else {
			s.bodies = append(s.bodies, string(b))
		}
		s.mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func (s *seen) sortedAuth() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.auth...)
	sort.Strings(out)
	return out
}

func TestCredentialsFile(t *testing.T) {
	srv, got := newTokenTarget(t)
	file := filepath.Join(t.TempDir(), "tokens.yaml")
	// One placeholder, one session key: both forms are looked up.
	require.NoError(t, os.WriteFile(file, []byte(phCarol+": tok-carol\ndave: tok-dave\n"), 0o600))
	_, errOut, code := execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(), "--credentials", file)
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Equal(t, []string{"Bearer tok-carol", "Bearer tok-dave"}, got.sortedAuth())
	assert.NotContains(t, errOut, "warning")
}

func TestCredentialsFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	srv, got := newTokenTarget(t)
	file := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"carol":"tok-c","dave":"tok-d"}`), 0o600))

	require.NoError(t, os.Chmod(file, 0o644))
	_, errOut, code := execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(), "--credentials", file)
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errOut, "--credentials")
	assert.Contains(t, errOut, "refusing a token file anyone may read")
	assert.Empty(t, got.sortedAuth(), "nothing sent")

	require.NoError(t, os.Chmod(file, 0o640))
	_, errOut, code = execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(), "--credentials", file)
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Contains(t, errOut, "warning: --credentials", "group-readable is used, with a warning")
	assert.NotContains(t, errOut, "tok-", "tokens never reach the terminal")
	assert.Equal(t, []string{"Bearer tok-c", "Bearer tok-d"}, got.sortedAuth())

	for body, want := range map[string]string{
		"[1, 2]\n": "--credentials",
		"{}\n":     "no tokens in it",
	} {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		require.NoError(t, os.WriteFile(bad, []byte(body), 0o600))
		_, errOut, code := execute(t, tokenRecording(t), "--dry-run", "--credentials", bad)
		assert.Equal(t, cli.ExitBadInput, code, body)
		assert.Contains(t, errOut, want)
	}
}

func TestCredentialsCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	srv, got := newTokenTarget(t)
	_, errOut, code := execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(),
		"--credentials-command", `sh -c 'echo "cmd-$REPRISE_SESSION"'`)
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Equal(t, []string{"Bearer cmd-carol", "Bearer cmd-dave"}, got.sortedAuth())
}

// TestScenarioCredentials: the scenario's credentials section works like
// the flags, and a flag replaces it.
func TestScenarioCredentials(t *testing.T) {
	srv, got := newTokenTarget(t)
	dir := t.TempDir()
	rec, err := os.ReadFile(tokenRecording(t))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rec.rpr"), rec, 0o644))
	sc := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(sc, []byte(fmt.Sprintf(`recording: {path: rec.rpr}
target: {url: %q}
timing: {mode: asap}
credentials:
  provider: static
  tokens: {carol: file-c, dave: file-d}
`, srv.URL)), 0o600))
	_, errOut, code := execute(t, "--scenario", sc, "--out", t.TempDir())
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Equal(t, []string{"Bearer file-c", "Bearer file-d"}, got.sortedAuth())

	got.auth = nil
	_, errOut, code = execute(t, "--scenario", sc, "--out", t.TempDir(), "--credentials-command", "echo flag-token")
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Equal(t, []string{"Bearer flag-token", "Bearer flag-token"}, got.sortedAuth())

	// Tokens in a scenario anyone may read are refused, as a token file is.
	require.NoError(t, os.Chmod(sc, 0o644))
	_, errOut, code = execute(t, "--scenario", sc, "--out", t.TempDir())
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errOut, "credentials.tokens in a file anyone may read")
	assert.NotContains(t, errOut, "file-c", "the token is never printed")
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		`get-token`:                         {"get-token"},
		`  vault  read -field=token  x `:    {"vault", "read", "-field=token", "x"},
		`sh -c 'echo "$REPRISE_SESSION" x'`: {"sh", "-c", `echo "$REPRISE_SESSION" x`},
		`a "b c" d\ e 'f''g' "h\"i" ''`:     {"a", "b c", "d e", "fg", `h"i`, ""},
		`/opt/my\ tools/tok --for "a'b"`:    {"/opt/my tools/tok", "--for", "a'b"},
		"tab\tseparated\nand newline":       {"tab", "separated", "and", "newline"},
		`x ""`:                              {"x", ""},
	} {
		got, err := splitCommand(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{``, `   `, `'open`, `"open`, `trailing\`, `"" x`} {
		_, err := splitCommand(bad)
		assert.Error(t, err, bad)
	}
}
