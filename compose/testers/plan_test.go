package testers_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/compose/testers"
)

// plan is everything a population intends: testers and their first actions.
type plan struct {
	Testers []testers.Tester
	Actions [][]testers.Action
}

func planOf(t *testing.T, p testers.Population, n int) plan {
	t.Helper()
	ts, err := p.Testers()
	require.NoError(t, err)
	out := plan{Testers: ts}
	for _, tt := range ts {
		out.Actions = append(out.Actions, p.Script(tt).Actions(n))
	}
	return out
}

func TestPlanDeterministic(t *testing.T) {
	p := testers.DefaultPopulation()
	p.Count, p.Seed = 60, 7
	a, b := planOf(t, p, 300), planOf(t, p, 300)
	require.Equal(t, a, b, "same seed, count and mix: same testers, hardware and actions")

	// Scripts do not depend on how far other scripts were read.
	ts, err := p.Testers()
	require.NoError(t, err)
	s := p.Script(ts[3])
	s.Actions(10)
	assert.Equal(t, a.Actions[3][10:20], s.Actions(10))

	p.Seed = 8
	c := planOf(t, p, 300)
	assert.NotEqual(t, a.Testers, c.Testers, "another seed gives other testers")
	differ := 0
	for i := range a.Actions {
		if a.Testers[i].Profile == c.Testers[i].Profile && !slices.EqualFunc(a.Actions[i], c.Actions[i], func(x, y testers.Action) bool { return x.Kind == y.Kind && x.Item == y.Item && x.Think == y.Think }) {
			differ++
		}
	}
	assert.Positive(t, differ, "another seed gives other action sequences")
	hw := 0
	for i := range a.Testers {
		if a.Testers[i].Hardware != c.Testers[i].Hardware {
			hw++
		}
	}
	assert.Greater(t, hw, len(a.Testers)/2, "another seed gives other hardware")
}

func TestPlanShape(t *testing.T) {
	p := testers.DefaultPopulation()
	p.Count, p.H2CShare, p.Build = 40, 0.25, "1.4.2"
	pl := planOf(t, p, 200)
	h2c := 0
	ids := map[string]bool{}
	for i, tt := range pl.Testers {
		require.NoError(t, tt.Hardware.Validate())
		require.False(t, ids[tt.ID], "ids are unique")
		ids[tt.ID] = true
		if tt.H2C {
			h2c++
		}
		assert.True(t, strings.HasPrefix(tt.UserAgent, "reprise-tester/1.4.2 (profile="+string(tt.Profile)+";"), tt.UserAgent)
		assert.Less(t, tt.StartAfter, p.Ramp)
		acts := pl.Actions[i]
		kinds := map[testers.Kind]int{}
		for _, a := range acts {
			kinds[a.Kind]++
			if a.Fault != testers.NoFault {
				require.Equal(t, testers.Flaky, tt.Profile, "only flaky testers inject faults")
			}
			if a.Kind == testers.Reconnect {
				require.Equal(t, testers.Flaky, tt.Profile, "only flaky testers reconnect")
			}
			if a.Kind == testers.Buy {
				require.True(t, a.Item >= 1 && a.Item <= p.Items, "item %d", a.Item)
			}
			if a.NAR != nil {
				require.Equal(t, tt.ID, a.NAR.TesterID)
				require.Equal(t, tt.Hardware, a.NAR.Hardware, "NAR traces carry the tester's hardware")
			}
		}
		switch tt.Profile {
		case testers.Bot:
			for _, a := range acts {
				require.Zero(t, a.Think, "bots do not think")
			}
			assert.Greater(t, kinds[testers.History]+kinds[testers.Inventory], len(acts)/2, "bots mostly read history and inventory")
		case testers.Grinder:
			assert.Greater(t, kinds[testers.AdvanceMission], len(acts)/2, "grinders mostly advance missions")
		case testers.Flaky:
			assert.Positive(t, kinds[testers.Reconnect])
		case testers.Casual:
			var think time.Duration
			for _, a := range acts {
				think += a.Think
			}
			assert.Greater(t, think/time.Duration(len(acts)), time.Second, "casual players think long")
		}
	}
	assert.Equal(t, 10, h2c, "an exact share speaks h2c")
}

func TestTradersContendOnHotItems(t *testing.T) {
	p := testers.DefaultPopulation()
	p.Count, p.Mix = 12, testers.Mix{{testers.Trader, 1}}
	pl := planOf(t, p, 60)
	byDrop := map[int]map[string]bool{}
	for i, tt := range pl.Testers {
		last := 0
		for _, a := range pl.Actions[i] {
			if a.Kind != testers.Buy {
				continue
			}
			require.Greater(t, a.Drop, last, "drops come in order")
			last = a.Drop
			require.Contains(t, p.HotItems(a.Drop), a.Item, "traders snipe the drop's hot set")
			if byDrop[a.Drop] == nil {
				byDrop[a.Drop] = map[string]bool{}
			}
			byDrop[a.Drop][tt.ID] = true
		}
	}
	crowded := 0
	for _, who := range byDrop {
		if len(who) > p.HotSet {
			crowded++
		}
	}
	assert.Greater(t, crowded, len(byDrop)/2, "most drops have more traders than hot items")
}

func TestDropTicksShareTheWallClock(t *testing.T) {
	p := testers.DefaultPopulation()
	p.DropEvery = time.Second
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := p.DropTick(base.Add(100*time.Millisecond), 1)
	b := p.DropTick(base.Add(50*time.Millisecond), 1)
	c := p.DropTick(base.Add(100*time.Millisecond), 3)
	// Two runs started close together agree on the ticks (unless a tick
	// falls between their starts, which the phase below rules out).
	phase := a.Sub(a.Truncate(time.Second))
	if phase > 100*time.Millisecond {
		assert.Equal(t, a, b)
	}
	assert.Equal(t, 2*time.Second, c.Sub(a))
	assert.True(t, a.After(base.Add(100*time.Millisecond)))
	assert.LessOrEqual(t, a.Sub(base.Add(100*time.Millisecond)), time.Second)

	p.Seed++
	assert.NotEqual(t, phase, p.DropTick(base, 1).Sub(p.DropTick(base, 1).Truncate(time.Second)), "the phase comes from the seed")
}

func TestPopulationValidateNamesField(t *testing.T) {
	cases := map[string]func(*testers.Population){
		"count":           func(p *testers.Population) { p.Count = 0 },
		"duration":        func(p *testers.Population) { p.Duration = 0 },
		"max_actions":     func(p *testers.Population) { p.MaxActions = -1 },
		"h2c_share":       func(p *testers.Population) { p.H2CShare = 1.5 },
		"items":           func(p *testers.Population) { p.Items = 0 },
		"missions":        func(p *testers.Population) { p.Missions = 0 },
		"hot_set":         func(p *testers.Population) { p.HotSet = p.Items + 1 },
		"drop_every":      func(p *testers.Population) { p.DropEvery = 0 },
		"ramp":            func(p *testers.Population) { p.Ramp = -time.Second },
		"time_scale":      func(p *testers.Population) { p.TimeScale = -1 },
		"request_timeout": func(p *testers.Population) { p.RequestTimeout = 0 },
		"mix":             func(p *testers.Population) { p.Mix = testers.Mix{{"gambler", 1}} },
	}
	require.NoError(t, testers.DefaultPopulation().Validate())
	for field, mutate := range cases {
		p := testers.DefaultPopulation()
		mutate(&p)
		err := p.Validate()
		require.Error(t, err, field)
		assert.ErrorIs(t, err, testers.ErrInvalidPopulation, field)
		assert.Contains(t, err.Error(), ": "+field+": ", field)
		_, err = p.Testers()
		assert.ErrorIs(t, err, testers.ErrInvalidPopulation, "Testers validates too")
	}
}
