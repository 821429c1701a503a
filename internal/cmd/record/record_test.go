package record

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/recorders/proxy/proxytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is an ErrOut the command writes while the test reads it.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	change chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{change: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	select {
	case b.change <- struct{}{}:
	default:
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the first match of re in the output, waiting for writes.
func (b *syncBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		select {
		case <-b.change:
		case <-deadline:
			require.FailNow(t, "no match", "%s in %q", re, b.String())
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

var listening = regexp.MustCompile(`listening on (http://[0-9.:]+),`)

func TestRecordRunsUntilCancelledAndSummarises(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("got:"), body...))
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "run.rpr")
	addrFile := filepath.Join(t.TempDir(), "addrs")
	ios, _, stdout, _ := cli.Test()
	errOut := newSyncBuffer()
	ios.ErrOut = errOut

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := NewCmdRecord(ios)
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--upstream", up.URL, "--out", out,
		"--admin", "127.0.0.1:0", "--body-cap", "4KiB", "--label", "build=42", "--flush-interval", "10ms",
		"--addr-file", addrFile})
	cmd.SetOut(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	base := errOut.waitFor(t, listening)[1]
	metricsURL := errOut.waitFor(t, regexp.MustCompile(`metrics on (http://\S+)`))[1]
	addrs, err := os.ReadFile(addrFile)
	require.NoError(t, err, "--addr-file is written before the addresses are printed")
	assert.Equal(t, "listen="+strings.TrimPrefix(base, "http://")+"\nadmin="+
		strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics")+"\n", string(addrs))
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for _, body := range []string{"one", "two", strings.Repeat("x", 10000)} {
		resp, err := client.Post(base+"/v1/items/7", "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "got:"+body, string(got))
	}
	resp, err := client.Get(metricsURL)
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(metrics), `reprise_record_responses_total{code="200",method="POST",route="/v1/items/{id}"} 3`)

	cancel() // what main does on SIGINT
	select {
	case err := <-done:
		require.NoError(t, err, "an interrupt is how a recording ends")
	case <-time.After(30 * time.Second):
		t.Fatal("record did not stop")
	}
	assert.Empty(t, stdout.String(), "nothing on standard output")

	hdr, exs := proxytest.Read(t, out)
	require.Len(t, exs, 3)
	assert.Equal(t, "4096", hdr.RecorderConfig["body_cap"])
	assert.Equal(t, "42", hdr.Labels["build"])
	assert.True(t, strings.HasPrefix(hdr.Recorder, "reprise record "))
	assert.Equal(t, "monotonic", hdr.Clock.Source)
	assert.Positive(t, hdr.Clock.AnchorUnixNano)
	assert.Equal(t, up.URL, hdr.RecorderConfig["upstream"])
	assert.Equal(t, strings.TrimPrefix(base, "http://"), hdr.RecorderConfig["listen"])
	assert.Equal(t, "10ms", hdr.RecorderConfig["flush_interval"])
	assert.Equal(t, "hmac-sha256", hdr.Redaction.GetScheme())
	for _, ex := range exs {
		assert.GreaterOrEqual(t, ex.StartNs, int64(0))
		assert.Less(t, ex.EndNs, int64(time.Minute), "offsets are from the anchor, not Unix time")
	}
	assert.True(t, exs[2].Request.Body.Truncated)
	assert.EqualValues(t, 10000, exs[2].Request.Body.Size)

	// Addresses, sizes and durations vary; the shape of the output does not.
	norm := errOut.String()
	for _, r := range []struct{ re, with string }{
		{`127\.0\.0\.1:\d+`, "ADDR"},
		{regexp.QuoteMeta(out), "FILE"},
		{`\d+(\.\d+)? (B|KiB|MiB)`, "SIZE"},
		{`in [0-9.]+(ms|s|m[0-9.]+s)\n`, "in DURATION\n"},
	} {
		norm = regexp.MustCompile(r.re).ReplaceAllString(norm, r.with)
	}
	golden(t, "summary.golden", norm)
}

func TestRecordBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]string{
		"no upstream":     {"--out", filepath.Join(dir, "a.rpr")},
		"no out":          {"--upstream", "http://127.0.0.1:1"},
		"bad scheme":      {"--upstream", "ftp://x", "--out", filepath.Join(dir, "a.rpr")},
		"bad listen":      {"--listen", "nope", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"bad body cap":    {"--body-cap", "lots", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"no out dir":      {"--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "missing", "a.rpr")},
		"lonely cert":     {"--tls-cert", "c.pem", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"missing cert":    {"--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"bad chain":       {"--session-chain", "cokie:x", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"short key":       {"--listen", "127.0.0.1:0", "--redaction-key-file", writeFile(t, "short"), "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
		"empty redaction": {"--redact-header", " ", "--upstream", "http://127.0.0.1:1", "--out", filepath.Join(dir, "a.rpr")},
	}
	for name, args := range cases {
		ios, _, _, errOut := cli.Test()
		cmd := NewCmdRecord(ios)
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		require.Error(t, err, name)
		assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err), "%s: %v", name, err)
		assert.Empty(t, errOut.String(), "%s: nothing started", name)
	}
	_, err := os.Stat(filepath.Join(dir, "a.rpr"))
	assert.True(t, os.IsNotExist(err), "a failed start leaves no file behind")
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestRecordHelp(t *testing.T) {
	ios, _, _, _ := cli.Test()
	cmd := NewCmdRecord(ios)
	var buf bytes.Buffer
	cmd.SetOut(&buf)
	cmd.SetArgs([]string{"--help"})
	require.NoError(t, cmd.Execute())
	golden(t, "help.golden", buf.String())
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "64KiB": 64 << 10, "1MiB": 1 << 20, "1mib": 1 << 20, "2MB": 2e6, "3 KB": 3000, "10B": 10} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "MiB", "1.5MiB", "1TiB", "99999999GiB"} {
		_, err := parseSize(in)
		assert.Error(t, err, in)
	}
}
