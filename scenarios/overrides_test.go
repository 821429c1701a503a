package scenarios

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const base = `recording: {path: a.rpr}
timing:
  mode: rate
  rate: 100/s
amplify: {factor: 2, collide: true}
target:
  allow_targets: [staging.example.com]
`

func parseFlags(t *testing.T, args ...string) *Overrides {
	t.Helper()
	fs := pflag.NewFlagSet("replay", pflag.ContinueOnError)
	o := BindFlags(fs)
	require.NoError(t, fs.Parse(args))
	return o
}

func TestApplyNoFlagsChangesNothing(t *testing.T) {
	s, err := Parse([]byte(base), "s.yaml")
	require.NoError(t, err)
	before := *s
	require.NoError(t, s.Apply(*parseFlags(t)))
	assert.Equal(t, before, *s)
}

func TestApplyFlagsOverrideFile(t *testing.T) {
	s, err := Parse([]byte(base), "s.yaml")
	require.NoError(t, err)
	o := parseFlags(t,
		"--target", "http://127.0.0.1:9090",
		"--timing", "causal", "--speed", "2.5",
		"--out", "runs/x", "--shard", "3/4", "--start-at", "2026-03-01T10:00:00+01:00",
		"--amplify", "5", "--collide=false",
		"--allow-target", "a.example", "--allow-target", "b.example,staging.example.com",
	)
	require.NoError(t, s.Apply(*o))
	assert.Equal(t, "http://127.0.0.1:9090", s.Target.URL)
	assert.Nil(t, s.Target.Stack, "a URL replaces the default stack")
	assert.Equal(t, Causal, s.Timing.Mode)
	assert.Nil(t, s.Timing.Rate, "leaving mode rate drops the file's rate")
	assert.Equal(t, 2.5, s.Timing.Speed)
	assert.Equal(t, "runs/x", s.Out)
	assert.Equal(t, Shard{3, 4}, s.Shard)
	assert.Equal(t, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), s.StartAt.Time)
	assert.Equal(t, Amplify{Factor: 5}, s.Amplify)
	assert.Equal(t, []string{"staging.example.com", "a.example", "b.example"}, s.Target.AllowTargets, "added, not replaced, without duplicates")
}

func TestApplyRateImpliesRateMode(t *testing.T) {
	s, err := Parse([]byte("recording: {path: a.rpr}\ntiming: {speed: 3}\n"), "s.yaml")
	require.NoError(t, err)
	require.NoError(t, s.Apply(*parseFlags(t, "--rate", "50/s")))
	assert.Equal(t, RateMode, s.Timing.Mode)
	assert.Equal(t, 1.0, s.Timing.Speed, "the file's speed belonged to causal timing")
	require.NotNil(t, s.Timing.Rate)
	assert.Equal(t, 50.0, s.Timing.Rate.At(0))
}

func TestApplyStackTarget(t *testing.T) {
	s, err := Parse([]byte("recording: {path: a.rpr}\ntarget: {url: 'http://127.0.0.1:1'}\n"), "s.yaml")
	require.NoError(t, err)
	require.NoError(t, s.Apply(*parseFlags(t, "--target", "compose")))
	assert.Empty(t, s.Target.URL)
	assert.Equal(t, &Stack{Driver: "compose", Service: "gateway"}, s.Target.Stack)
}

// TestApplyErrorsBlameTheFlag checks that a bad override is reported at
// its flag, a conflict with the file at the file's line, and that the
// scenario is left as it was.
func TestApplyErrorsBlameTheFlag(t *testing.T) {
	s, err := Parse([]byte(base), "s.yaml")
	require.NoError(t, err)
	before := *s
	err = s.Apply(*parseFlags(t, "--timing", "causal", "--speed", "0", "--shard", "4/4", "--amplify", "1", "--target", "kube/gw"))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Equal(t, `--speed: timing.speed: 0: must be a number > 0
s.yaml:5: amplify.collide: needs factor of at least 2
--target: target.stack.driver: "kube": want local or compose
--target: target.stack.service: "gw": unknown service (want one of [sequencer indexer marketplace missions gateway])
--shard: shard: "4/4": shard index must be in [0, 4)`, err.Error())
	lines := flatten(err)
	want := map[string]string{
		"target.stack.driver":  "--target",
		"target.stack.service": "--target",
		"timing.speed":         "--speed",
		"shard":                "--shard",
		"amplify.collide":      "s.yaml:5",
	}
	got := map[string]string{}
	for _, e := range lines {
		var fe *FieldError
		require.ErrorAs(t, e, &fe)
		got[fe.Path] = fe.Where
	}
	assert.Equal(t, want, got)
	assert.Equal(t, before, *s, "unchanged on error")
}

func TestBindFlagsRejectsMalformedValues(t *testing.T) {
	for _, args := range [][]string{
		{"--timing", "fast"},
		{"--speed", "quick"},
		{"--shard", "2-8"},
		{"--start-at", "yesterday"},
		{"--amplify", "x"},
		{"--rate", "lots"},
		{"--target", "/gateway"},
		{"--collide=perhaps"},
		{"--rate-curve", "0s-10"},
		{"--rate-curve", "0s:10,soon:20"},
		{"--clone-offset", "5"},
		{"--time-shift=sometimes"},
		{"--window", "10s"},
		{"--window", "..tomorrow"},
		{"--session", "[a"},
		{"--route", "items"},
	} {
		fs := pflag.NewFlagSet("replay", pflag.ContinueOnError)
		fs.SetOutput(nopWriter{})
		BindFlags(fs)
		err := fs.Parse(args)
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), args[0][:len(args[0])-len(afterEq(args[0]))], "names the flag")
	}
}

func TestBindFlagsCollideWithoutValue(t *testing.T) {
	o := parseFlags(t, "--collide")
	require.NotNil(t, o.Collide)
	assert.True(t, *o.Collide)
	assert.Nil(t, o.Speed, "unset flags stay nil")
}

func afterEq(s string) string {
	for i := range s {
		if s[i] == '=' {
			return s[i:]
		}
	}
	return ""
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func TestApplyNewOverrides(t *testing.T) {
	s, err := Parse([]byte(`recording:
  path: a.rpr
  filters: {sessions: [alice], routes: [/v1/a], window: {from: 1s, to: 2s}}
amplify: {factor: 3}
`), "s.yaml")
	require.NoError(t, err)
	o := parseFlags(t, "--rate-curve", "0s:10,30s:100/s,1m:10", "--clone-offset", "50ms", "--time-shift",
		"--window", "5s..", "--session", "bob*,carol", "--route", "POST /v1/items/*/buy", "--route", "/v1/players/**")
	o.Credentials, o.CredentialsFlag = &Credentials{Provider: ProviderCommand, Command: []string{"get-token"}}, "--credentials-command"
	require.NoError(t, s.Apply(*o))
	assert.Equal(t, RateMode, s.Timing.Mode, "--rate-curve implies mode rate")
	require.NotNil(t, s.Timing.Rate)
	assert.Equal(t, []RatePoint{
		{At: 0, Rate: Freq{10, time.Second}},
		{At: Duration(30 * time.Second), Rate: Freq{100, time.Second}},
		{At: Duration(time.Minute), Rate: Freq{10, time.Second}},
	}, s.Timing.Rate.Curve)
	assert.Equal(t, Duration(50*time.Millisecond), s.Amplify.Offset)
	assert.Equal(t, 3, s.Amplify.Factor, "the file's factor stays")
	assert.True(t, s.TimeShift)
	require.NotNil(t, s.Recording.Filters.Window)
	assert.Equal(t, &Instant{Offset: 5 * time.Second}, s.Recording.Filters.Window.From)
	assert.Nil(t, s.Recording.Filters.Window.To, "the flag's window replaces the file's whole")
	assert.Equal(t, []string{"bob*", "carol"}, s.Recording.Filters.Sessions)
	assert.Equal(t, []RoutePattern{"POST /v1/items/*/buy", "/v1/players/**"}, s.Recording.Filters.Routes)
	assert.Equal(t, Credentials{Provider: ProviderCommand, Command: []string{"get-token"}, Timeout: DefaultCommandTimeout}, s.Credentials)
}

func TestApplyNewOverridesBlameTheirFlags(t *testing.T) {
	s, err := Parse([]byte("recording: {path: a.rpr}\n"), "s.yaml")
	require.NoError(t, err)
	o := parseFlags(t, "--clone-offset", "5ms", "--rate", "3", "--rate-curve", "0s:1")
	err = s.Apply(*o)
	assert.EqualError(t, err, "--rate-curve: timing.rate: exclusive with --rate; give one")
	o = parseFlags(t, "--clone-offset", "5ms", "--rate-curve", "1s:1,0s:2", "--window", "9s..3s")
	o.Credentials, o.CredentialsFlag = &Credentials{Provider: ProviderStatic}, "--credentials"
	err = s.Apply(*o)
	require.Error(t, err)
	for _, want := range []string{
		"--clone-offset: amplify.offset: needs factor of at least 2",
		"--rate-curve: timing.rate[0].at: 1s: the first point must be at 0s",
		"--window: recording.filters.window.to: 3s: must be after from (9s)",
		"--credentials: credentials.tokens: required with provider static",
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestRoutePatternDoubleStar(t *testing.T) {
	p := RoutePattern("GET /v1/players/**")
	assert.True(t, p.Match("GET", "/v1/players/alice/inventory", ""))
	assert.True(t, p.Match("GET", "/v1/players", ""))
	assert.False(t, p.Match("GET", "/v1/items/1", "/v1/items/{id}"))
	assert.False(t, p.Match("POST", "/v1/players/alice", ""))
}
