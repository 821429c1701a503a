package testers_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/compose/testers"
)

func TestParseMix(t *testing.T) {
	m, err := testers.ParseMix(" casual=0.3, trader=0.3,grinder=0.2,flaky=0.1,bot=0.1 ")
	require.NoError(t, err)
	assert.Equal(t, testers.DefaultMix, m)
	assert.Equal(t, "casual=0.3,trader=0.3,grinder=0.2,flaky=0.1,bot=0.1", m.String())

	// Weights are relative and profiles may be left out.
	m, err = testers.ParseMix("trader=3,bot=1")
	require.NoError(t, err)
	p := testers.DefaultPopulation()
	p.Count, p.Mix = 8, m
	ts, err := p.Testers()
	require.NoError(t, err)
	assert.Equal(t, map[testers.Profile]int{testers.Trader: 6, testers.Bot: 2}, countProfiles(ts))
}

func TestParseMixErrors(t *testing.T) {
	cases := map[string]string{
		"":                       "empty",
		"casual":                 `entry 1 "casual": want profile=weight`,
		"casual=0.5,trader=abc":  `entry 2 "trader=abc": weight "abc" is not a number`,
		"casual=1,gambler=1":     `entry 2: unknown profile "gambler"`,
		"casual=1,casual=2":      `entry 2: profile "casual" given twice`,
		"casual=-1,bot=2":        `entry 1: profile "casual": weight -1 must be a finite number ≥ 0`,
		"casual=NaN":             `weight NaN must be`,
		"casual=+Inf":            `weight +Inf must be`,
		"casual=0,bot=0":         "weights sum to 0",
		"casual=1e308,bot=1e308": "weights sum to +Inf",
	}
	for spec, want := range cases {
		_, err := testers.ParseMix(spec)
		require.Error(t, err, spec)
		assert.ErrorIs(t, err, testers.ErrBadMix, spec)
		assert.Contains(t, err.Error(), want, spec)
	}
}

func TestMixSplitIsExact(t *testing.T) {
	p := testers.DefaultPopulation()
	for _, n := range []int{1, 7, 10, 33, 1000} {
		p.Count = n
		ts, err := p.Testers()
		require.NoError(t, err)
		got := countProfiles(ts)
		sum := 0
		for _, s := range testers.DefaultMix {
			want := float64(n) * s.Weight
			assert.InDelta(t, want, got[s.Profile], 1, "n=%d %s", n, s.Profile)
			sum += got[s.Profile]
		}
		assert.Equal(t, n, sum)
	}
}

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{"casual=0.3,trader=0.3,grinder=0.2,flaky=0.1,bot=0.1", "bot=1", "", "=", "casual=1,,", "trader=0x1p-2", "casual=1e-320"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := testers.ParseMix(spec)
		if err != nil {
			require.ErrorIs(t, err, testers.ErrBadMix)
			return
		}
		require.NoError(t, m.Validate())
		again, err := testers.ParseMix(m.String())
		require.NoError(t, err, "String must parse back: %q", m.String())
		require.Equal(t, len(m), len(again))
		for i := range m {
			require.Equal(t, m[i].Profile, again[i].Profile)
			require.True(t, m[i].Weight == again[i].Weight || math.IsNaN(m[i].Weight))
		}
		// Any valid mix splits any count exactly.
		p := testers.DefaultPopulation()
		p.Mix, p.Count = m, 13
		ts, err := p.Testers()
		require.NoError(t, err)
		require.Len(t, ts, 13)
	})
}

func countProfiles(ts []testers.Tester) map[testers.Profile]int {
	out := map[testers.Profile]int{}
	for _, t := range ts {
		out[t.Profile]++
	}
	return out
}
