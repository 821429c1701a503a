package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Shard
		parse   bool
		inRange bool
	}{
		{"0/1", Shard{0, 1}, true, true},
		{"2/8", Shard{2, 8}, true, true},
		{"7/8", Shard{7, 8}, true, true},
		{"8/8", Shard{8, 8}, true, false},
		{"0/0", Shard{0, 0}, true, true}, // the zero value: no sharding
		{"1/0", Shard{1, 0}, true, false},
		{"-1/8", Shard{}, false, false},
		{"2-8", Shard{}, false, false},
		{"2/", Shard{}, false, false},
		{" 2/8", Shard{}, false, false},
		{"2/8/1", Shard{}, false, false},
	} {
		got, err := ParseShard(tc.in)
		if !tc.parse {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.inRange, got.Validate() == nil, tc.in)
	}
}

func TestParseFreq(t *testing.T) {
	for _, tc := range []struct {
		in     string
		perSec float64
		canon  string
	}{
		{"200/s", 200, "200/s"},
		{"200", 200, "200/s"},
		{"3000/m", 50, "3000/m"},
		{"5/100ms", 50, "5/100ms"},
		{"1/2s", 0.5, "1/2s"},
		{"0.5/s", 0.5, "0.5/s"},
		{"7200/h", 2, "7200/h"},
	} {
		f, err := ParseFreq(tc.in)
		require.NoError(t, err, tc.in)
		assert.InDelta(t, tc.perSec, f.PerSecond(), 1e-9, tc.in)
		assert.Equal(t, tc.canon, f.String(), tc.in)
		again, err := ParseFreq(f.String())
		require.NoError(t, err)
		assert.Equal(t, f, again, "canonical form parses back")
	}
	for _, bad := range []string{"", "fast", "200/fortnight", "200/0s", "200/-1s", "NaN/s", "Inf", "1/"} {
		_, err := ParseFreq(bad)
		assert.Error(t, err, bad)
	}
	for _, nonPositive := range []string{"0/s", "-5/s"} {
		f, err := ParseFreq(nonPositive)
		require.NoError(t, err)
		assert.Error(t, f.Validate(), nonPositive)
	}
}

func TestRateAt(t *testing.T) {
	constant := Rate{Constant: Freq{Count: 100, Per: time.Second}}
	assert.Equal(t, 100.0, constant.At(time.Hour))

	curve := Rate{Curve: []RatePoint{
		{At: 0, Rate: Freq{Count: 100, Per: time.Second}},
		{At: Duration(10 * time.Second), Rate: Freq{Count: 300, Per: time.Second}},
		{At: Duration(20 * time.Second), Rate: Freq{Count: 50, Per: time.Second}},
	}}
	require.NoError(t, curve.Validate())
	assert.Equal(t, 100.0, curve.At(0))
	assert.Equal(t, 100.0, curve.At(10*time.Second-1), "a step curve: no interpolation")
	assert.Equal(t, 300.0, curve.At(10*time.Second))
	assert.Equal(t, 300.0, curve.At(15*time.Second))
	assert.Equal(t, 50.0, curve.At(20*time.Second))
	assert.Equal(t, 50.0, curve.At(time.Minute), "the last rate holds")
}

func TestDurationRejectsBareNumbers(t *testing.T) {
	var d Duration
	assert.ErrorContains(t, yaml.Unmarshal([]byte("90"), &d), `"90": want a duration`)
	require.NoError(t, yaml.Unmarshal([]byte("0"), &d))
	require.NoError(t, yaml.Unmarshal([]byte("1m30s"), &d))
	assert.Equal(t, 90*time.Second, d.Std())
	assert.ErrorContains(t, yaml.Unmarshal([]byte("[1s]"), &d), "got a list")
}

func TestInstant(t *testing.T) {
	var i Instant
	require.NoError(t, i.UnmarshalText([]byte("90s")))
	assert.True(t, i.IsOffset())
	assert.Equal(t, 90*time.Second, i.Offset)

	require.NoError(t, i.UnmarshalText([]byte("2026-03-01T10:00:00+01:00")))
	assert.False(t, i.IsOffset())
	assert.Equal(t, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), i.At)
	assert.Equal(t, "2026-03-01T09:00:00Z", i.String())

	assert.Error(t, i.UnmarshalText([]byte("0001-01-01T00:00:00Z")), "the zero time would read as an offset")
	assert.Error(t, i.UnmarshalText([]byte("tomorrow")))
}

func TestRoutePatternMatch(t *testing.T) {
	p := RoutePattern("POST /v1/items/{id}/buy")
	require.NoError(t, p.Validate())
	assert.True(t, p.Match("POST", "/v1/items/42/buy", "/v1/items/{id}/buy"), "matches the template")
	assert.False(t, p.Match("GET", "/v1/items/42/buy", "/v1/items/{id}/buy"), "method differs")

	players := RoutePattern("/v1/players/*/inventory")
	assert.True(t, players.Match("GET", "/v1/players/tester-0013/inventory", "/v1/players/{id}/inventory"))
	assert.False(t, players.Match("GET", "/v1/players/tester-0013/history", "/v1/players/{id}/history"))

	grpc := RoutePattern("/platform.Market/*")
	assert.True(t, grpc.Match("POST", "/platform.Market/Buy", "/platform.Market/Buy"))
}

// TestJSON checks that a scenario survives encoding/json, the form tools
// other than the loader (reports, the run directory index) may use.
func TestJSON(t *testing.T) {
	s, err := Load("testdata/valid/full.yaml")
	require.NoError(t, err)
	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"shard":"2/8"`)
	assert.Contains(t, string(b), `"rate":[{"at":"0s","rate":"50/s"}`)

	var back Scenario
	require.NoError(t, json.Unmarshal(b, &back))
	back.src = s.src
	assert.Equal(t, s, &back)
}
