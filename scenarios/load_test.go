package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -update")
	assert.Equal(t, string(want), string(got), "%s is stale; run go test -update and review the diff", path)
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestValidFixtures pins the resolved form (defaults applied, paths
// resolved) of every valid fixture.
func TestValidFixtures(t *testing.T) {
	for _, file := range fixtures(t, "valid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := Load(file)
			require.NoError(t, err)
			require.NoError(t, s.Validate())
			out, err := Marshal(s)
			require.NoError(t, err)
			golden(t, strings.TrimSuffix(file, ".yaml")+".resolved", out)
		})
	}
}

// TestInvalidFixtures pins the exact message of every invalid fixture; each
// .err file holds what the user sees.
func TestInvalidFixtures(t *testing.T) {
	for _, file := range fixtures(t, "invalid") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, err := Load(file)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, ErrInvalid)
			for _, e := range flatten(err) {
				var fe *FieldError
				require.ErrorAs(t, e, &fe, "every problem is a FieldError: %v", e)
				assert.True(t, strings.HasPrefix(fe.Where, file), "%q names the file", fe.Where)
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

func TestParseReportsEveryProblemWithPathAndLine(t *testing.T) {
	src := `recording: {path: a.rpr}
timing:
  sped: 2
checks:
  - id: checkers.ok
  - id: bad id
amplify: {factor: 0}
`
	_, err := Parse([]byte(src), "scenario.yaml")
	require.Error(t, err)
	assert.Equal(t, strings.Join([]string{
		`scenario.yaml:3: timing.sped: unknown field`,
		`scenario.yaml:6: checks[1].id: "bad id": want namespace.name, lower case, such as "checkers.unique_sale"`,
		`scenario.yaml:7: amplify.factor: 0: must be at least 1`,
	}, "\n"), err.Error())
	assert.ErrorIs(t, err, ErrUnknownField)
	errs := flatten(err)
	require.Len(t, errs, 3)
	var fe *FieldError
	require.ErrorAs(t, errs[1], &fe)
	assert.Equal(t, "checks[1].id", fe.Path)
	assert.Equal(t, "scenario.yaml:6", fe.Where)
}

func TestParseDefaultsOnlyAbsentFields(t *testing.T) {
	s, err := Parse([]byte("recording: {path: a.rpr}\n"), "dir/my scenario.yaml")
	require.NoError(t, err)
	assert.Equal(t, "my-scenario", s.Name)
	assert.Equal(t, filepath.Join("dir", "a.rpr"), s.Recording.Path)
	assert.Equal(t, &Stack{Driver: "local", Service: "gateway"}, s.Target.Stack)
	assert.Equal(t, Causal, s.Timing.Mode)
	assert.Equal(t, 1.0, s.Timing.Speed)
	assert.Equal(t, 1, s.Amplify.Factor)
	assert.Equal(t, ProviderNone, s.Credentials.Provider)

	_, err = Parse([]byte("recording: {path: a.rpr}\ntiming: {speed: 0}\n"), "s.yaml")
	require.Error(t, err, "an explicit zero is checked, not defaulted")
	assert.Equal(t, "s.yaml:2: timing.speed: 0: must be a number > 0", err.Error())

	s, err = Parse([]byte("recording: {path: a.rpr}\ncredentials: {provider: command, command: [tok]}\n"), "s.yaml")
	require.NoError(t, err)
	assert.Equal(t, DefaultCommandTimeout, s.Credentials.Timeout)
}

func TestParseKeepsAbsoluteRecordingPath(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "x.rpr"))
	require.NoError(t, err)
	s, err := Parse([]byte("recording: {path: "+abs+"}\n"), "elsewhere/s.yaml")
	require.NoError(t, err)
	assert.Equal(t, abs, s.Recording.Path)
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorIs(t, err, os.ErrNotExist)

	big := filepath.Join(t.TempDir(), "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxSize)+"\n"), 0o644))
	_, err = Load(big)
	require.Error(t, err)
	assert.Equal(t, big+": larger than 1048576 bytes", err.Error())
}

// TestParseAliasBomb checks that exponential alias expansion costs bounded
// work and ends in an error, not a hang or a crash.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	doc := "recording: {path: a.rpr}\nchecks:\n  - id: checkers.x\n    config:\n      " +
		strings.ReplaceAll(b.String(), "\n", "\n      ") + "\nobservers: [*a8]\n"
	_, err := Parse([]byte(doc), "bomb.yaml")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestFieldErrorFormatting(t *testing.T) {
	e := &FieldError{Where: "f.yaml:3", Path: "a.b", Err: errors.New("bad")}
	assert.Equal(t, "f.yaml:3: a.b: bad", e.Error())
	assert.Equal(t, "a.b: bad", (&FieldError{Path: "a.b", Err: errors.New("bad")}).Error())
	assert.Equal(t, "f.yaml: bad", (&FieldError{Where: "f.yaml", Err: errors.New("bad")}).Error())
	assert.True(t, errors.Is(e, ErrInvalid))

	var p problems
	p.nest("checks[2]", errors.Join(&FieldError{Path: "id", Err: ErrRequired}, errors.New("plain")))
	p.nest("tokens", (&problems{&FieldError{Path: key("a.b"), Err: ErrRequired}}).err())
	assert.Equal(t, "checks[2].id: required\nchecks[2]: plain\ntokens[\"a.b\"]: required", p.err().Error())
}

func TestParseCapsTheNumberOfErrors(t *testing.T) {
	doc := "recording: {path: a.rpr}\nobservers: [" + strings.Repeat("x, ", 99) + "x]\n"
	_, err := Parse([]byte(doc), "s.yaml")
	require.Error(t, err)
	errs := flatten(err)
	require.Len(t, errs, MaxErrors+1)
	assert.Equal(t, "s.yaml: 75 more problems not shown", errs[MaxErrors].Error())
	assert.Equal(t, "s.yaml:2: observers[0]: want a mapping, got a scalar", errs[0].Error())
}
