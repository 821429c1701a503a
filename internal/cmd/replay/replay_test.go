package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/results"
	"github.com/reprise-dev/reprise/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const recTok = "rpr-redacted-0a1b2c3d4e5f60718293a4b5"

// sampleRecording writes a two-session recording: a login issuing a token
// and two calls using it, per session.
func sampleRecording(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.rpr")
	w, err := recording.Create(path, &rprpb.FileHeader{FormatVersion: recording.FormatVersion, Recorder: "test",
		Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: 1_700_000_000_000_000_000}})
	require.NoError(t, err)
	id := uint64(0)
	add := func(sess string, startMs int64, method, path, auth, respBody string) {
		id++
		var hs []*rprpb.Header
		if auth != "" {
			hs = append(hs, &rprpb.Header{Name: "Authorization", Values: []string{"Bearer " + auth}})
		}
		ex := &rprpb.Exchange{Id: id, Session: sess, ConnectionId: uint64(len(sess)), Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
			StartNs: startMs * 1e6, EndNs: (startMs + 3) * 1e6,
			Request:  &rprpb.Request{Method: method, Path: path, Headers: hs},
			Response: &rprpb.Response{Status: 200, Body: &rprpb.Body{Data: []byte(respBody)}}}
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}))
	}
	for k, sess := range []string{"alice", "bob"} {
		tok := recTok[:len(recTok)-1] + string(rune('0'+k))
		base := int64(k * 5)
		add(sess, base, "POST", "/v1/login", "", `{"token":"`+tok+`"}`)
		add(sess, base+10, "GET", "/v1/me", tok, `{"name":"x"}`)
		add(sess, base+20, "GET", "/v1/items", tok, `[]`)
	}
	require.NoError(t, w.Close())
	return path
}

func execute(t *testing.T, args ...string) (out, errOut string, code int) {
	t.Helper()
	ios, _, o, e := cli.Test()
	cmd := NewCmdReplay(ios)
	cmd.SetArgs(args)
	cmd.SetOut(o)
	cmd.SetErr(e)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		e.WriteString(err.Error())
	}
	return o.String(), e.String(), cli.ExitCode(err)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestDryRunPrintsPlan(t *testing.T) {
	out, _, code := execute(t, sampleRecording(t), "--dry-run")
	require.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "Replay plan: 6 requests in 2 sessions")
	golden(t, "dryrun.txt", []byte(out))
}

func TestDryRunFilters(t *testing.T) {
	out, _, code := execute(t, sampleRecording(t), "--dry-run", "--session", "bob", "--window", "0s..20ms")
	require.Equal(t, cli.ExitOK, code)
	assert.Contains(t, out, "Replay plan: 2 requests in 1 sessions")
}

func TestDryRunShard(t *testing.T) {
	file := sampleRecording(t)
	total := 0
	for _, shard := range []string{"0/2", "1/2"} {
		out, _, code := execute(t, file, "--dry-run", "--shard", shard)
		require.Equal(t, cli.ExitOK, code)
		var n, sessions int
		_, err := fmt.Sscanf(out, "Replay plan: %d requests in %d sessions", &n, &sessions)
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, 6, total, "shards partition the requests")
}

func TestStartAtInThePastStartsNow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer srv.Close()
	_, errOut, code := execute(t, sampleRecording(t), "--target", srv.URL, "--out", t.TempDir(),
		"--start-at", "2000-01-01T00:00:00Z", "--timing", "asap")
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
}

func TestRefusesNonLoopbackTarget(t *testing.T) {
	_, errOut, code := execute(t, sampleRecording(t), "--target", "http://93.184.216.34:8080", "--out", t.TempDir())
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errOut, "not a loopback address")
	assert.Contains(t, errOut, "--allow-target 93.184.216.34")
}

func TestBadInput(t *testing.T) {
	file := sampleRecording(t)
	for name, args := range map[string][]string{
		"no target":      {file},
		"bad timing":     {file, "--dry-run", "--timing", "sometimes"},
		"bad speed":      {file, "--dry-run", "--speed", "0"},
		"rate no rate":   {file, "--dry-run", "--timing", "rate"},
		"rate wrong":     {file, "--dry-run", "--timing", "causal", "--rate", "3"},
		"bad shard":      {file, "--dry-run", "--shard", "4/4"},
		"bad window":     {file, "--dry-run", "--window", "5s"},
		"bad start-at":   {file, "--target", "http://127.0.0.1:1", "--start-at", "tomorrow"},
		"missing file":   {filepath.Join(t.TempDir(), "none.rpr"), "--dry-run"},
		"ftp target":     {file, "--target", "ftp://127.0.0.1"},
		"two arguments":  {file, file, "--dry-run"},
		"gc headroom":    {file, "--dry-run", "--gc-headroom-mib", "-1"},
		"huge headroom":  {file, "--dry-run", "--gc-headroom-mib", "17592186044416"},
		"no procs":       {file, "--dry-run", "--procs-per-cpu", "-1"},
		"too many procs": {file, "--dry-run", "--procs-per-cpu", "17"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, code := execute(t, args...)
			assert.Equal(t, cli.ExitBadInput, code)
		})
	}
}

func TestReplaysAgainstLoopback(t *testing.T) {
	var unauthorized atomic.Int32
	var issued atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/login" {
			tok := fmt.Sprintf("live-%d", issued.Add(1))
			_, _ = w.Write([]byte(`{"token":"` + tok + `"}`))
			return
		}
		if r.Header.Get("Authorization") == "" || r.Header.Get("Authorization")[:12] != "Bearer live-" {
			unauthorized.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "run")
	out, errOut, code := execute(t, sampleRecording(t), "--target", srv.URL, "--out", dir, "--timing", "asap")
	assert.Zero(t, unauthorized.Load())
	assert.Contains(t, out, "correlations: 2 found, 4 applied, 0 unresolved")
	b, err := os.ReadFile(filepath.Join(dir, replay.SummaryFile))
	require.NoError(t, err)
	var sum replay.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, 6, sum.Requests.Sent)
	// Validity depends on how loaded this machine is (generator lag); the
	// exit status and the report must agree with it either way.
	if sum.Valid {
		assert.Equal(t, cli.ExitOK, code, errOut)
		assert.Contains(t, out, "run: valid")
	} else {
		assert.Equal(t, cli.ExitInvalidRun, code, errOut)
		assert.Contains(t, out, "run: INVALID: "+sum.Reason)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{replay.ResultsFile, replay.PlanFile, replay.SummaryFile, results.SketchesFile}, names,
		"the run directory holds the run's files; the exchange store, spilled there, leaves nothing")
}

// TestFailedStartLeavesNoRunDirectory: a run that fails after the
// exchanges were stored but before it starts (here its admin address is
// taken) removes the run directory it made for the store.
func TestFailedStartLeavesNoRunDirectory(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code := execute(t, sampleRecording(t), "--target", srv.URL, "--out", dir,
		"--timing", "asap", "--admin", taken.Addr().String())
	require.NotEqual(t, cli.ExitOK, code)
	assert.Contains(t, errOut, "address already in use")
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "no empty run directory left behind: %v", err)
}

func TestUnreachableTargetFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	out, _, code := execute(t, sampleRecording(t), "--target", "http://"+addr, "--out", t.TempDir(), "--timing", "asap")
	assert.Equal(t, cli.ExitError, code)
	assert.Contains(t, out, "6 transport")
}

func TestHelpHasExamples(t *testing.T) {
	ios, _, _, _ := cli.Test()
	cmd := NewCmdReplay(ios)
	assert.NotEmpty(t, cmd.Example)
	var buf bytes.Buffer
	cmd.SetOut(&buf)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	assert.Contains(t, buf.String(), "--allow-target")
}

// TestEveryFlagIsDocumented keeps docs/replay.md in step with the flags.
func TestEveryFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "replay.md"))
	require.NoError(t, err)
	ios, _, _, _ := cli.Test()
	n := 0
	NewCmdReplay(ios).Flags().VisitAll(func(f *pflag.Flag) {
		n++
		assert.Contains(t, string(doc), "`--"+f.Name, "docs/replay.md does not mention --%s", f.Name)
	})
	assert.Greater(t, n, 25)
}

// A record the filters drop that shares its id with a planned one (files
// concatenated, a JSONL edited by hand) is never the one sent: the store
// reads the recording through the plan's filters, the --route glob and
// the --window alike.
func TestFilteredRecordSharingAPlannedIdIsNotSent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dup.rpr")
	w, err := recording.Create(path, &rprpb.FileHeader{FormatVersion: recording.FormatVersion, Recorder: "test",
		Clock: &rprpb.Clock{Source: "monotonic", AnchorUnixNano: 1_700_000_000_000_000_000}})
	require.NoError(t, err)
	for _, ex := range []*rprpb.Exchange{
		{Id: 5, Session: "a", StartNs: 1e6, EndNs: 2e6, Request: &rprpb.Request{Method: "DELETE", Path: "/admin/wipe"}},
		{Id: 5, Session: "a", StartNs: 50e6, EndNs: 51e6, Request: &rprpb.Request{Method: "GET", Path: "/v1/items"}},
	} {
		ex.Protocol, ex.ConnectionId, ex.Response = rprpb.Protocol_PROTOCOL_HTTP1, 1, &rprpb.Response{Status: 200}
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}))
	}
	require.NoError(t, w.Close())
	for _, filter := range [][]string{{"--route", "/v1/**"}, {"--window", "10ms..1s"}} {
		var seen []string
		var mu sync.Mutex
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}))
		args := append([]string{path, "--target", srv.URL, "--out", filepath.Join(t.TempDir(), "run"), "--timing", "asap"}, filter...)
		_, errOut, code := execute(t, args...)
		srv.Close()
		assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
		assert.Equal(t, []string{"GET /v1/items"}, seen, "%v", filter)
	}
}
