package testers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Profile is a tester's behaviour.
type Profile string

// The behaviour profiles.
const (
	// Casual browses items, checks missions and inventory, buys now and
	// then (reading each order it gets back, GET /v1/orders/{id}), and
	// thinks for a long time between actions.
	Casual Profile = "casual"
	// Trader snipes the same small hot set of items as the other traders, at
	// shared drop ticks, which makes purchases contend. It reads back every
	// order it wins with the id the server issued (GET /v1/orders/{id}).
	Trader Profile = "trader"
	// Grinder advances missions over and over.
	Grinder Profile = "grinder"
	// Flaky plays on a bad network: short client timeouts, dropped
	// connections, retries with backoff and reconnects. The faults it
	// injects itself are tagged and counted apart.
	Flaky Profile = "flaky"
	// Bot has no think time and reads history and inventory heavily.
	Bot Profile = "bot"
)

// Profiles lists every profile in a fixed order, the order of reports.
var Profiles = []Profile{Casual, Trader, Grinder, Flaky, Bot}

// ErrBadMix marks a mix specification or value that cannot be used.
var ErrBadMix = errors.New("bad mix")

// Share is one profile's weight in a mix.
type Share struct {
	Profile Profile
	Weight  float64
}

// Mix is the population's share of each profile. Weights need not sum to
// one; they are normalised. Order is kept, so a mix prints as it was given.
type Mix []Share

// DefaultMix is a plausible tester population.
var DefaultMix = Mix{{Casual, 0.3}, {Trader, 0.3}, {Grinder, 0.2}, {Flaky, 0.1}, {Bot, 0.1}}

// ParseMix reads "casual=0.3,trader=0.3,grinder=0.2,flaky=0.1,bot=0.1".
// Profiles left out get no testers.
func ParseMix(spec string) (Mix, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("%w: empty (want e.g. %q)", ErrBadMix, DefaultMix.String())
	}
	var m Mix
	for i, part := range strings.Split(spec, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, fmt.Errorf("%w: entry %d %q: want profile=weight", ErrBadMix, i+1, part)
		}
		name = strings.TrimSpace(name)
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d %q: weight %q is not a number", ErrBadMix, i+1, part, val)
		}
		m = append(m, Share{Profile: Profile(name), Weight: w})
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Validate checks that every profile is known, listed once, with a finite
// weight of zero or more, and that some weight is positive.
func (m Mix) Validate() error {
	if len(m) == 0 {
		return fmt.Errorf("%w: no profiles", ErrBadMix)
	}
	seen := map[Profile]bool{}
	total := 0.0
	for i, s := range m {
		if !slices.Contains(Profiles, s.Profile) {
			return fmt.Errorf("%w: entry %d: unknown profile %q (known: %s)", ErrBadMix, i+1, s.Profile, profileNames())
		}
		if seen[s.Profile] {
			return fmt.Errorf("%w: entry %d: profile %q given twice", ErrBadMix, i+1, s.Profile)
		}
		seen[s.Profile] = true
		if math.IsNaN(s.Weight) || math.IsInf(s.Weight, 0) || s.Weight < 0 {
			return fmt.Errorf("%w: entry %d: profile %q: weight %v must be a finite number ≥ 0", ErrBadMix, i+1, s.Profile, s.Weight)
		}
		total += s.Weight
	}
	if total <= 0 || math.IsInf(total, 0) {
		return fmt.Errorf("%w: weights sum to %v, want a positive finite sum", ErrBadMix, total)
	}
	return nil
}

// String prints the mix in ParseMix's syntax.
func (m Mix) String() string {
	parts := make([]string, len(m))
	for i, s := range m {
		parts[i] = string(s.Profile) + "=" + strconv.FormatFloat(s.Weight, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// counts splits n testers by the mix with the largest-remainder method, so
// the shares are exact to one tester and the split is deterministic.
func (m Mix) counts(n int) []int {
	total := 0.0
	for _, s := range m {
		total += s.Weight
	}
	out := make([]int, len(m))
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(m))
	given := 0
	for i, s := range m {
		exact := float64(n) * s.Weight / total
		out[i] = int(math.Floor(exact))
		given += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	// Ties go to the earlier entry, which keeps the split stable.
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.r > b.r:
			return -1
		case a.r < b.r:
			return 1
		}
		return 0
	})
	for k := 0; given < n; k++ {
		if m[rems[k%len(rems)].i].Weight > 0 {
			out[rems[k%len(rems)].i]++
			given++
		}
	}
	return out
}

func profileNames() string {
	names := make([]string, len(Profiles))
	for i, p := range Profiles {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
