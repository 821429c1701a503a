package testers

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/compose/testers/gatewaytest"
	"github.com/reprise-dev/reprise/internal/cli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func execute(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := cli.Test()
	cmd := NewCmdTesters(ios)
	cmd.SetArgs(args)
	cmd.SetOut(errOut)
	cmd.SetErr(errOut)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String() + errString(err), cli.ExitCode(err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestBadFlagsExit2(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no target":       {nil, "--target is required"},
		"bad mix":         {[]string{"--target", "http://127.0.0.1:1", "--mix", "casual=1,gambler=2"}, `--mix: bad mix: entry 2: unknown profile "gambler"`},
		"zero count":      {[]string{"--target", "http://127.0.0.1:1", "--count", "0"}, "count: must be between"},
		"h2c share":       {[]string{"--target", "http://127.0.0.1:1", "--h2c-share", "2"}, "h2c_share"},
		"bad number":      {[]string{"--target", "http://127.0.0.1:1", "--count", "many"}, "invalid argument"},
		"unknown flag":    {[]string{"--target", "http://127.0.0.1:1", "--rps", "9"}, "unknown flag"},
		"not a URL":       {[]string{"--target", "127.0.0.1:8080"}, "want http://host:port"},
		"remote refused":  {[]string{"--target", "http://staging.example.com:8080"}, "is not loopback; if staging.example.com is one of our own hosts, pass --allow-target staging.example.com"},
		"other allowed":   {[]string{"--target", "http://10.0.0.8:8080", "--allow-target", "10.0.0.9"}, "is not loopback"},
		"negative budget": {[]string{"--target", "http://127.0.0.1:1", "--max-actions", "-1"}, "max_actions"},
		"time scale":      {[]string{"--target", "http://127.0.0.1:1", "--time-scale", "-1"}, "time_scale"},
		"positional args": {[]string{"--target", "http://127.0.0.1:1", "extra"}, "unknown command"},
	}
	for name, c := range cases {
		out, errOut, code := execute(t, c.args...)
		if name == "positional args" {
			// cobra's own argument error; the root maps it to exit 2.
			assert.Contains(t, errOut, "extra", name)
			continue
		}
		assert.Equal(t, cli.ExitBadInput, code, "%s: %s", name, errOut)
		assert.Contains(t, errOut, c.want, name)
		assert.Empty(t, out, name)
	}
}

func TestCheckTarget(t *testing.T) {
	ok := map[string][]string{
		"http://127.0.0.1:8080":          nil,
		"http://127.3.4.5:1":             nil,
		"http://[::1]:8080":              nil,
		"http://localhost:8080":          nil,
		"https://LOCALHOST":              nil,
		"http://api.localhost:80":        nil,
		"http://staging.internal:8080":   {"staging.internal"},
		"http://Staging.Internal:8080/x": {"other", " staging.internal "},
	}
	for target, allow := range ok {
		assert.NoError(t, checkTarget(target, allow), target)
	}
	refused := map[string][]string{
		"http://example.com":           nil,
		"http://10.0.0.1:8080":         {"10.0.0.2"},
		"http://127.0.0.1.nip.io:8080": nil,
		"http://0.0.0.0:8080":          nil,
	}
	for target, allow := range refused {
		assert.ErrorIs(t, checkTarget(target, allow), ErrTargetRefused, target)
	}
}

func TestRunPrintsSummary(t *testing.T) {
	gw := gatewaytest.Start(t)
	args := []string{"--target", gw.URL, "--count", "8", "--duration", "1s", "--time-scale", "0.01",
		"--drop-every", "100ms", "--ramp", "10ms", "--seed", "5"}

	out, errOut, code := execute(t, append(args, "--json")...)
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.Contains(t, errOut, "8 testers (casual=0.3,trader=0.3,grinder=0.2,flaky=0.1,bot=0.1, seed 5)")
	var s summary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, 8, s.Total.Testers)
	assert.Equal(t, int64(8), s.Total.Logins)
	assert.Positive(t, s.Total.Requests)
	require.Len(t, s.Profiles, 5)
	assert.Equal(t, testers.Casual, s.Profiles[0].Profile)
	assert.InDelta(t, 1.0, s.ElapsedS, 0.5)

	out, errOut, code = execute(t, args...)
	require.Equal(t, cli.ExitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 8, out) // header, five profiles, total, footer
	assert.Contains(t, lines[0], "intentional err")
	assert.Contains(t, lines[6], "total")
	assert.Contains(t, lines[7], "8 testers (8 logged in, 0 failed to)")
}

func TestSummaryGolden(t *testing.T) {
	p := testers.DefaultPopulation()
	st := testers.Stats{Elapsed: 30 * time.Second, Profiles: map[testers.Profile]testers.ProfileStats{
		testers.Trader: {Testers: 6, Logins: 6, Actions: 600, Requests: 606,
			Status: testers.StatusClasses{S2xx: 420, S4xx: 186}, Conflicts: 180, NARPosts: 12},
		testers.Flaky: {Testers: 2, Logins: 2, Actions: 80, Requests: 101,
			Status: testers.StatusClasses{S2xx: 75, S5xx: 3}, Intentional: 19, TransportErrors: 4, Retries: 21, Reconnects: 9, NARPosts: 5, Interrupted: 1},
		testers.Bot: {Testers: 2, Logins: 1, LoginFailures: 1, Actions: 900, Requests: 904, Status: testers.StatusClasses{S2xx: 901, S4xx: 3}},
	}}
	s := newSummary("http://127.0.0.1:8080", p, st)
	var table, js bytes.Buffer
	require.NoError(t, s.writeTable(&table))
	require.NoError(t, s.writeJSON(&js))
	golden(t, "summary.txt", table.Bytes())
	golden(t, "summary.json", js.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create %s", path)
	assert.Equal(t, string(want), string(got))
}
