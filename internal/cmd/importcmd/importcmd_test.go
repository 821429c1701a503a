package importcmd_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl/jsonltest"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/cat"
	"github.com/reprise-dev/reprise/internal/cmd/importcmd"
)

type result struct {
	out, errOut string
	code        int
	err         error
}

func runImport(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	ios, in, out, errOut := cli.Test()
	in.Write(stdin)
	cmd := importcmd.NewCmdImport(ios)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	return result{out: out.String(), errOut: errOut.String(), code: cli.ExitCode(err), err: err}
}

func readRecording(t *testing.T, path string) (*rprpb.FileHeader, []*rprpb.Record) {
	t.Helper()
	r, err := recording.Open(path)
	require.NoError(t, err)
	defer r.Close()
	var recs []*rprpb.Record
	for rec, err := range r.All() {
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	assert.True(t, r.Complete(), "the output is closed cleanly")
	return r.Header(), recs
}

// assertDirHolds checks that an import left nothing in dir but want.
func assertDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, want, names)
}

// The acceptance test of the interchange:
// reprise cat --format jsonl FILE | reprise import jsonl - --out copy.rpr
// gives a proto.Equal header and records.
func TestCatImportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.rpr")
	jsonltest.Write(t, orig)

	ios, _, catOut, catErr := cli.Test()
	catCmd := cat.NewCmdCat(ios)
	catCmd.SetArgs([]string{"--format", "jsonl", orig})
	require.NoError(t, catCmd.ExecuteContext(context.Background()))
	require.Empty(t, catErr.String())

	cp := filepath.Join(dir, "copy.rpr")
	res := runImport(t, catOut.Bytes(), "jsonl", "-", "--out", cp)
	require.NoError(t, res.err)
	assert.Equal(t, "reprise import: stdin: 14 records imported (8 exchanges, 6 of other kinds), 2 sessions, 2 without session → "+cp+"\n", res.errOut)
	assert.Empty(t, res.out)

	wantHdr, wantRecs := readRecording(t, orig)
	gotHdr, gotRecs := readRecording(t, cp)
	assert.True(t, proto.Equal(wantHdr, gotHdr), "header:\nwant %v\ngot  %v", wantHdr, gotHdr)
	require.Len(t, gotRecs, len(wantRecs))
	for i := range wantRecs {
		require.True(t, proto.Equal(wantRecs[i], gotRecs[i]), "record %d", i)
	}
	assertDirHolds(t, dir, "orig.rpr", "copy.rpr")
}

func TestJSONLRefusesSessionAndRedaction(t *testing.T) {
	for _, flag := range [][]string{
		{"--session-chain", "jwt-sub"}, {"--redact-header", "X-A"}, {"--redact-query", "q"}, {"--redact-field", "pin"},
	} {
		out := filepath.Join(t.TempDir(), "x.rpr")
		res := runImport(t, nil, append([]string{"jsonl", "-", "--out", out}, flag...)...)
		assert.Equal(t, cli.ExitBadInput, res.code, flag)
		assert.Contains(t, res.err.Error(), "do not apply to jsonl")
		assert.NoFileExists(t, out)
	}
}

func TestRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.rpr")
	require.NoError(t, os.WriteFile(out, []byte("precious"), 0o600))
	line := []byte(`{"kind":"exchange","id":1,"session":"s"}` + "\n")

	res := runImport(t, line, "jsonl", "-", "--out", out)
	assert.Equal(t, cli.ExitBadInput, res.code)
	assert.Contains(t, res.err.Error(), "out.rpr exists; use --force")
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "precious", string(got))

	res = runImport(t, line, "jsonl", "-", "--out", out, "--force")
	require.NoError(t, res.err)
	_, recs := readRecording(t, out)
	require.Len(t, recs, 1)
	assertDirHolds(t, dir, "out.rpr")
}

func TestBadLineFailsAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "dump.jsonl")
	require.NoError(t, os.WriteFile(in, []byte(`{"kind":"header","format_version":1}
{"kind":"exchange","id":1,"session":"s"}
{"kind":"exchange","id":2,"session":"s","response":{"status":"200"}}
{"kind":"exchange","id":3,"session":"s"}
`), 0o600))
	out := filepath.Join(dir, "out.rpr")
	res := runImport(t, nil, "jsonl", in, "--out", out)
	assert.Equal(t, cli.ExitBadInput, res.code)
	assert.Contains(t, res.err.Error(), "dump.jsonl: line 3: field \"response.status\"")
	assertDirHolds(t, dir, "dump.jsonl")

	res = runImport(t, nil, "jsonl", in, "--out", out, "--skip-invalid")
	require.NoError(t, res.err)
	assert.Contains(t, res.errOut, "reprise import: skipped: "+in+": line 3: field \"response.status\"")
	assert.Contains(t, res.errOut, "2 records imported (2 exchanges, 0 of other kinds), 1 sessions, 1 lines skipped as invalid")
	_, recs := readRecording(t, out)
	require.Len(t, recs, 2)
	assert.EqualValues(t, 3, recs[1].GetExchange().GetId())
}

func TestHeaderlessJSONL(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.rpr")
	res := runImport(t, []byte(`{"kind":"exchange","id":1,"session":"s","start":"2026-03-01T09:30:00Z","duration_ms":5,"request":{"method":"GET","path":"/"}}`),
		"jsonl", "-", "--out", out)
	require.NoError(t, res.err)
	hdr, recs := readRecording(t, out)
	assert.Equal(t, "reprise import jsonl", hdr.Recorder)
	assert.NotZero(t, hdr.CreatedUnixNano, "the writer dates a header that had no date")
	require.Len(t, recs, 1)
	assert.EqualValues(t, 1772357400_000000000, recs[0].GetExchange().StartNs)
	assert.EqualValues(t, 1772357400_005000000, recs[0].GetExchange().EndNs)
}

func TestBadUsage(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		args []string
		msg  string
	}{
		"format":  {[]string{"yaml", "-", "--out", filepath.Join(dir, "a.rpr")}, `unknown format "yaml" (want jsonl, har or gor)`},
		"no out":  {[]string{"jsonl", "-"}, "--out is required"},
		"out -":   {[]string{"jsonl", "-", "--out", "-"}, "--out must name a file"},
		"out dir": {[]string{"jsonl", "-", "--out", filepath.Join(dir, "nodir", "x.rpr")}, "nodir does not exist"},
		"missing": {[]string{"har", filepath.Join(dir, "nope.har"), "--out", filepath.Join(dir, "b.rpr")}, "nope.har"},
		"chain":   {[]string{"har", "-", "--out", filepath.Join(dir, "c.rpr"), "--session-chain", "jwt-sub,cokie:x"}, `"cokie:x"`},
	}
	for name, c := range cases {
		res := runImport(t, []byte(`{"log":{"version":"1.2","entries":[]}}`), c.args...)
		assert.Equal(t, cli.ExitBadInput, res.code, name)
		if assert.Error(t, res.err, name) {
			assert.Contains(t, res.err.Error(), c.msg, name)
		}
	}
	assertDirHolds(t, dir)
}

func TestNewerHeaderRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.rpr")
	res := runImport(t, []byte(`{"kind":"header","format_version":9}`), "jsonl", "-", "--out", out, "--skip-invalid")
	assert.Equal(t, cli.ExitBadInput, res.code)
	assert.True(t, errors.Is(res.err, recording.ErrVersion))
	assert.NoFileExists(t, out)
}

const harInput = `{"log":{"version":"1.2","creator":{"name":"test","version":"1"},"entries":[
{"startedDateTime":"2026-03-01T09:30:00.000Z","time":12.5,
 "request":{"method":"POST","url":"https://api.example.test/v1/login?x=1","httpVersion":"HTTP/1.1",
  "headers":[{"name":"Content-Type","value":"application/json"},{"name":"X-Player-Id","value":"p-1"},{"name":"X-Device-Token","value":"dev-secret-42"}],
  "queryString":[],"cookies":[],"headersSize":-1,"bodySize":65,
  "postData":{"mimeType":"application/json","text":"{\"user\":\"ana\",\"pin\":\"pin-secret-7391\",\"password\":\"pw-secret-1\"}"}},
 "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[{"name":"Content-Type","value":"application/json"}],"cookies":[],
  "content":{"size":23,"mimeType":"application/json","text":"{\"token\":\"tk-secret-9\"}"},"redirectURL":"","headersSize":-1,"bodySize":23},
 "cache":{},"timings":{"send":1,"wait":10,"receive":1.5}},
{"startedDateTime":"2026-03-01T09:30:01.000Z","time":3,
 "request":{"method":"GET","url":"https://api.example.test/v1/items","httpVersion":"HTTP/1.1",
  "headers":[{"name":"Authorization","value":"Bearer tk-secret-9"},{"name":"X-Player-Id","value":"p-1"}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
 "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":2,"mimeType":"application/json","text":"[]"},"redirectURL":"","headersSize":-1,"bodySize":2},
 "cache":{},"timings":{"send":1,"wait":1,"receive":1}}
]}}`

func TestHAR(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "trace.har")
	require.NoError(t, os.WriteFile(in, []byte(harInput), 0o600))
	out := filepath.Join(dir, "trace.rpr")
	res := runImport(t, nil, "har", in, "--out", out,
		"--session-chain", "header:X-Player-Id", "--redact-header", "X-Device-Token", "--redact-field", "pin")
	require.NoError(t, res.err)
	assert.Contains(t, res.errOut, "reprise import: "+in+": 2 exchanges imported from 2 entries, 1 sessions")

	hdr, recs := readRecording(t, out)
	assert.Equal(t, "reprise import har", hdr.Recorder)
	assert.Contains(t, hdr.Redaction.Headers, "X-Device-Token")
	assert.Contains(t, hdr.Redaction.JsonFields, "pin")
	assert.Contains(t, hdr.Redaction.JsonFields, "password", "flags add to the default policy")
	require.Len(t, recs, 2)
	assert.Equal(t, "p-1", recs[0].GetExchange().Session)
	assert.Equal(t, "header:x-player-id", recs[0].GetExchange().SessionSource)
	assert.Equal(t, "/v1/login", recs[0].GetExchange().Request.Path)

	raw := rawRecords(t, out)
	for _, secret := range []string{"dev-secret-42", "pin-secret-7391", "pw-secret-1", "tk-secret-9"} {
		assert.False(t, bytes.Contains(raw, []byte(secret)), "secret %q reached the recording", secret)
	}
}

// rawRecords is every record marshalled, so that a secret can be searched
// for in the bytes and not just in fields the test thought of.
func rawRecords(t *testing.T, path string) []byte {
	t.Helper()
	_, recs := readRecording(t, path)
	var b []byte
	for _, rec := range recs {
		m, err := proto.Marshal(rec)
		require.NoError(t, err)
		b = append(b, m...)
	}
	return b
}

func TestBadHARLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.har")
	require.NoError(t, os.WriteFile(in, []byte(strings.Replace(harInput, `"https://api.example.test/v1/items"`, `"::not a url"`, 1)), 0o600))
	res := runImport(t, nil, "har", in, "--out", filepath.Join(dir, "out.rpr"))
	assert.Equal(t, cli.ExitBadInput, res.code)
	assert.Contains(t, res.err.Error(), "bad.har: entries[1]")
	assertDirHolds(t, dir, "bad.har")
}

const gorSep = "\n\U0001F435\U0001F648\U0001F649\n"

func gorInput() string {
	recs := []string{
		"1 aa01 1772357400000000000 0\nGET /v1/items?limit=2 HTTP/1.1\r\nHost: api.example.test\r\nX-Session-Id: s-A\r\n\r\n",
		"2 aa01 1772357400010000000 10000000\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
		"1 aa02 1772357400020000000 0\nPOST /v1/buy HTTP/1.1\r\nHost: api.example.test\r\nX-Session-Id: s-B\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"item\":\"i1\"}",
		"3 aa02 1772357400030000000 5000000\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
	}
	return strings.Join(recs, gorSep)
}

func TestGorFromStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "gor.rpr")
	res := runImport(t, []byte(gorInput()), "gor", "-", "--out", out)
	require.NoError(t, res.err)
	assert.Contains(t, res.errOut, "reprise import: stdin: 2 exchanges imported from 4 entries, 2 sessions")
	assert.Contains(t, res.errOut, "1 without response")
	hdr, recs := readRecording(t, out)
	assert.Equal(t, "reprise import gor", hdr.Recorder)
	require.Len(t, recs, 2)
	assert.Equal(t, "/v1/items", recs[0].GetExchange().Request.Path)
	assert.EqualValues(t, 200, recs[0].GetExchange().Response.GetStatus())
	assert.Equal(t, "s-B", recs[1].GetExchange().Session)
}
