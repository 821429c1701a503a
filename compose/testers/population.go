package testers

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// ErrInvalidPopulation marks a Population that cannot run; the message names
// the field.
var ErrInvalidPopulation = errors.New("invalid tester population")

// Population configures a run of synthetic testers. Start from
// DefaultPopulation and change what you need; Validate checks every field.
type Population struct {
	// Count is the number of testers.
	Count int
	// Duration bounds the run; testers stop when it ends.
	Duration time.Duration
	// MaxActions is each tester's action budget (login not included).
	MaxActions int
	// Seed makes everything planned reproducible: profiles, hardware,
	// actions, think times, hot items and drop ticks.
	Seed uint64
	// Mix is the share of each behaviour profile.
	Mix Mix
	// H2CShare is the share of testers that speak h2c instead of HTTP/1.1.
	H2CShare float64
	// Items and Missions are the ids testers use: 1..Items, 1..Missions.
	Items, Missions int
	// HotSet is how many items each trader drop targets.
	HotSet int
	// DropEvery spaces the drops, the wall-clock ticks (phase derived from
	// the seed) at which traders snipe; two populations with the same seed
	// and DropEvery contend at the same moments.
	DropEvery time.Duration
	// Ramp spreads the testers' start over this long.
	Ramp time.Duration
	// TimeScale multiplies every planned pause (think times, retry backoff,
	// the flaky profile's injected timeouts); 0.01 makes a quick test.
	TimeScale float64
	// RequestTimeout is the client timeout; flaky testers use half of it.
	RequestTimeout time.Duration
	// Build names the client build in the User-Agent.
	Build string
}

// Defaults.
const (
	DefaultCount          = 20
	DefaultDuration       = 30 * time.Second
	DefaultMaxActions     = 500
	DefaultItems          = 50
	DefaultMissions       = 5
	DefaultHotSet         = 2
	DefaultDropEvery      = 2 * time.Second
	DefaultRamp           = 2 * time.Second
	DefaultH2CShare       = 0.25
	DefaultRequestTimeout = 10 * time.Second
)

// DefaultPopulation returns the defaults for every field.
func DefaultPopulation() Population {
	return Population{
		Count: DefaultCount, Duration: DefaultDuration, MaxActions: DefaultMaxActions,
		Seed: 1, Mix: DefaultMix, H2CShare: DefaultH2CShare,
		Items: DefaultItems, Missions: DefaultMissions, HotSet: DefaultHotSet,
		DropEvery: DefaultDropEvery, Ramp: DefaultRamp, TimeScale: 1,
		RequestTimeout: DefaultRequestTimeout, Build: "dev",
	}
}

// Validate checks every field; the error names the first bad one.
func (p Population) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPopulation, field, fmt.Sprintf(format, args...))
	}
	switch {
	case p.Count < 1 || p.Count > 100_000:
		return bad("count", "must be between 1 and 100000, got %d", p.Count)
	case p.Duration <= 0 || p.Duration > 24*time.Hour:
		return bad("duration", "must be positive and at most 24h, got %s", p.Duration)
	case p.MaxActions < 1 || p.MaxActions > 1_000_000:
		return bad("max_actions", "must be between 1 and 1000000, got %d", p.MaxActions)
	case math.IsNaN(p.H2CShare) || p.H2CShare < 0 || p.H2CShare > 1:
		return bad("h2c_share", "must be between 0 and 1, got %v", p.H2CShare)
	case p.Items < 1 || p.Items > 1_000_000:
		return bad("items", "must be between 1 and 1000000, got %d", p.Items)
	case p.Missions < 1 || p.Missions > 10_000:
		return bad("missions", "must be between 1 and 10000, got %d", p.Missions)
	case p.HotSet < 1 || p.HotSet > p.Items:
		return bad("hot_set", "must be between 1 and items (%d), got %d", p.Items, p.HotSet)
	case p.DropEvery < time.Millisecond:
		return bad("drop_every", "must be at least 1ms, got %s", p.DropEvery)
	case p.Ramp < 0:
		return bad("ramp", "must not be negative, got %s", p.Ramp)
	case math.IsNaN(p.TimeScale) || p.TimeScale < 0 || p.TimeScale > 100:
		return bad("time_scale", "must be between 0 and 100, got %v", p.TimeScale)
	case p.RequestTimeout <= 0:
		return bad("request_timeout", "must be positive, got %s", p.RequestTimeout)
	}
	if err := p.Mix.Validate(); err != nil {
		return fmt.Errorf("%w: mix: %w", ErrInvalidPopulation, err)
	}
	return nil
}

// Tester is one planned tester: who it is, how it behaves, what it runs on.
type Tester struct {
	Index     int      `json:"index"`
	ID        string   `json:"id"`
	Profile   Profile  `json:"profile"`
	Hardware  Hardware `json:"hardware"`
	H2C       bool     `json:"h2c"`
	UserAgent string   `json:"user_agent"`
	// StartAfter is the tester's place in the ramp.
	StartAfter time.Duration `json:"start_after"`
}

// Random streams: each tester draws its hardware, its script and its
// run-time jitter from separate streams, so adding a draw to one never
// shifts another.
const (
	streamPopulation = iota
	streamHardware
	streamScript
	streamRuntime
	streamRamp
)

func (p Population) rng(tester, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(p.Seed, uint64(tester)<<8|uint64(stream)))
}

// Testers plans the population: profiles split exactly by the mix and
// shuffled, h2c for an exact share, hardware drawn per tester.
func (p Population) Testers() ([]Tester, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(p.Seed, 1<<62+streamPopulation))
	profiles := make([]Profile, 0, p.Count)
	for i, n := range p.Mix.counts(p.Count) {
		for range n {
			profiles = append(profiles, p.Mix[i].Profile)
		}
	}
	rng.Shuffle(len(profiles), func(i, j int) { profiles[i], profiles[j] = profiles[j], profiles[i] })
	h2c := rng.Perm(p.Count)
	h2cCount := int(math.Round(p.H2CShare * float64(p.Count)))
	build := p.Build
	if build == "" {
		build = "dev"
	}
	out := make([]Tester, p.Count)
	for i := range out {
		hw := DrawHardware(p.rng(i, streamHardware))
		var start time.Duration
		if p.Ramp > 0 {
			start = time.Duration(p.rng(i, streamRamp).Int64N(int64(p.Ramp)))
		}
		out[i] = Tester{
			Index: i, ID: fmt.Sprintf("tester-%04d", i+1), Profile: profiles[i], Hardware: hw,
			H2C:        h2c[i] < h2cCount,
			StartAfter: start,
			UserAgent:  fmt.Sprintf("reprise-tester/%s (profile=%s; %s; nar=%s)", build, profiles[i], hw.OSVersion, hw.Backend),
		}
	}
	return out, nil
}

// HotItems is the hot set of drop number drop (1, 2, ...): the items every
// trader snipes at that tick.
func (p Population) HotItems(drop int) []int {
	out := make([]int, p.HotSet)
	for j := range out {
		out[j] = 1 + int(mix64(p.Seed^0x5eed, uint64(drop)*uint64(p.HotSet)+uint64(j))%uint64(p.Items))
	}
	return out
}

// DropTick is when drop number drop (1, 2, ...) happens for a run started
// at start: wall-clock multiples of DropEvery shifted by a seed-derived
// phase, so separate processes with the same seed agree.
func (p Population) DropTick(start time.Time, drop int) time.Time {
	phase := time.Duration(mix64(p.Seed, 0xd509) % uint64(p.DropEvery))
	first := start.Truncate(p.DropEvery).Add(phase)
	if !first.After(start) {
		first = first.Add(p.DropEvery)
	}
	return first.Add(time.Duration(drop-1) * p.DropEvery)
}

// mix64 is splitmix64's finaliser over two words: a cheap, well-spread hash.
func mix64(a, b uint64) uint64 {
	z := a + 0x9e3779b97f4a7c15*(b+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
