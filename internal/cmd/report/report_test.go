package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/internal/cli"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

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

// runCmd runs `reprise report ARGS` and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ios, _, out, _ := cli.Test()
	cmd := NewCmdReport(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(out)
	err := cmd.Execute()
	if err != nil {
		out.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), cli.ExitCode(err)
}

func TestTextGolden(t *testing.T) {
	out, code := runCmd(t, "testdata/run")
	assert.Equal(t, 0, code)
	golden(t, "run.txt", out)
}

func TestMarkdownGolden(t *testing.T) {
	out, code := runCmd(t, "testdata/run", "--format", "markdown")
	assert.Equal(t, 0, code)
	golden(t, "run.md", out)
}

func TestOutWritesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.md")
	out, code := runCmd(t, "testdata/run", "--format", "md", "--out", path)
	require.Equal(t, 0, code, out)
	assert.Empty(t, out)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	golden(t, "run.md", string(got))
}

func TestInvalidRunStillRendersWithExitZero(t *testing.T) {
	out, code := runCmd(t, "testdata/invalid")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "run: INVALID: generator lag p99 9ms > 5ms")
}

func TestBadInputExitsTwoNamingTheFile(t *testing.T) {
	corrupt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "summary.json"), []byte(`{"requests": 3}`), 0o644))
	cases := map[string]struct {
		args []string
		want string
	}{
		"missing dir": {[]string{"testdata/nope"}, "testdata/nope: no summary.json"},
		"corrupt":     {[]string{corrupt}, filepath.Join(corrupt, "summary.json")},
		"format":      {[]string{"testdata/run", "--format", "html"}, `--format "html"`},
		"no dir":      {nil, "want one run directory, got 0"},
		"out":         {[]string{"testdata/run", "--out", filepath.Join(corrupt, "no", "such", "x.md")}, "--out"},
	}
	for name, c := range cases {
		out, code := runCmd(t, c.args...)
		assert.Equal(t, cli.ExitBadInput, code, name)
		assert.Contains(t, out, c.want, name)
	}
}

func TestHelpHasExamples(t *testing.T) {
	out, code := runCmd(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "reprise report runs/merged --format markdown")
	assert.Contains(t, out, "exits 0 even when the run was judged invalid")
}
