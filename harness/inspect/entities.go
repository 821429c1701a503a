package inspect

import (
	"cmp"
	"slices"

	"github.com/reprise-dev/reprise/harness/route"
)

// entityAcc keeps the time span of every exchange that touched one entity.
// Peak concurrency needs them all: records are written in completion order,
// not start order, so overlap cannot be settled while streaming. That is
// 16 bytes per exchange naming an entity; bodies are never kept.
type entityAcc struct {
	count  int64
	starts []int64
	ends   []int64
}

func (s *Stats) addEntities(path string, start, end int64) {
	s.scratch = route.AppendEntities(s.scratch[:0], path)
	if end <= start {
		// A zero-length exchange was still in flight for an instant.
		end = satAdd(start, 1)
	}
	for i, e := range s.scratch {
		// "/users/42/friends/42" touches users/42 once.
		if slices.ContainsFunc(s.scratch[:i], func(p route.Entity) bool { return p == e }) {
			continue
		}
		key := e.Key()
		acc, ok := s.entities[key]
		if !ok {
			acc = &entityAcc{}
			s.entities[key] = acc
		}
		acc.count++
		acc.starts = append(acc.starts, start)
		acc.ends = append(acc.ends, end)
	}
}

func (s *Stats) rankEntities() Entities {
	all := make([]EntityStat, 0, len(s.entities))
	for key, acc := range s.entities {
		peak, at := peakOverlap(acc.starts, acc.ends)
		all = append(all, EntityStat{Key: key, Count: acc.count, Peak: peak, PeakAtSeconds: round3(float64(at) / 1e9)})
	}
	out := Entities{Distinct: len(all)}
	slices.SortFunc(all, func(a, b EntityStat) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.Peak, a.Peak), cmp.Compare(a.Key, b.Key))
	})
	out.ByCount = slices.Clone(all[:min(len(all), s.top)])
	slices.SortFunc(all, func(a, b EntityStat) int {
		return cmp.Or(cmp.Compare(b.Peak, a.Peak), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	// An entity only one exchange touched at a time is no contention.
	n := 0
	for n < len(all) && n < s.top && all[n].Peak > 1 {
		n++
	}
	out.ByPeak = slices.Clone(all[:n])
	return out
}

// peakOverlap returns the largest number of half-open spans [start, end) in
// flight at once and the earliest time it was reached. It sorts its inputs.
func peakOverlap(starts, ends []int64) (peak int, at int64) {
	if len(starts) == 0 {
		return 0, 0
	}
	slices.Sort(starts)
	slices.Sort(ends)
	j := 0
	for i, st := range starts {
		// A span that ends exactly when another starts does not overlap it.
		for j < len(ends) && ends[j] <= st {
			j++
		}
		if cur := i + 1 - j; cur > peak {
			peak, at = cur, st
		}
	}
	return peak, at
}
