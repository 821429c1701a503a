package plan

import (
	"slices"
	"time"
)

// Stats summarises a plan and what replaying it is expected to look like.
type Stats struct {
	Requests int `json:"requests"`
	Sessions int `json:"sessions"`
	// Components are the shard units; Largest is the most requests in one,
	// the floor on what a single shard must replay.
	Components int `json:"components"`
	Largest    int `json:"largest_component"`

	Edges EdgeStats `json:"edges"`

	Correlations int `json:"correlations"`
	Uses         int `json:"uses"`
	// CrossSession counts correlations used outside the producer's session.
	CrossSession int `json:"cross_session_correlations"`
	// Unordered counts uses whose producer was still running.
	Unordered int `json:"unordered_uses"`
	// BySource counts correlations by where the producer carried the value.
	BySource map[Part]int `json:"by_source"`

	RecordedDuration time.Duration `json:"recorded_duration_ns"`
	RecordedPeak     int           `json:"recorded_peak_concurrency"`

	Mode  string  `json:"mode"`
	Speed float64 `json:"speed"`
	// ExpectedDuration and PeakConcurrency come from a simulation: each
	// request is sent at its intended time (no generator lag) and takes its
	// recorded service time, not divided by speed, because speed paces the
	// client and has no say over how fast the target answers.
	ExpectedDuration time.Duration `json:"expected_duration_ns"`
	PeakConcurrency  int           `json:"peak_concurrency"`
}

// EdgeStats counts edges by kind.
type EdgeStats struct {
	Total int `json:"total"`
	// Order counts pure ordering edges, Data pure data-flow edges, Both the
	// edges that are both.
	Order int `json:"order"`
	Data  int `json:"data"`
	Both  int `json:"both"`
	// CrossSession counts data-flow edges between sessions.
	CrossSession int `json:"cross_session"`
	// Dropped counts ordering edges cut by sharding.
	Dropped int `json:"dropped_by_shard"`
}

// Stats is the summary for the default schedule: causal at speed 1.
func (p *Plan) Stats() Stats {
	s, _ := p.Schedule(Causal)
	return s.Stats()
}

// Stats summarises the plan under this schedule.
func (s *Schedule) Stats() Stats {
	p := s.plan
	st := Stats{Requests: len(p.Nodes), Mode: s.mode.String(), Speed: s.speed, BySource: map[Part]int{}}
	sessions := make(map[string]struct{})
	for i := range p.Nodes {
		sessions[p.Call(i).Session] = struct{}{}
	}
	st.Sessions = len(sessions)

	sizes := make(map[int32]int)
	for _, c := range p.comp {
		sizes[c]++
	}
	st.Components = len(sizes)
	for _, n := range sizes {
		st.Largest = max(st.Largest, n)
	}

	st.Edges = EdgeStats{Total: len(p.Edges), Dropped: p.dropped}
	for _, e := range p.Edges {
		switch e.Kind {
		case Order:
			st.Edges.Order++
		case Data:
			st.Edges.Data++
		default:
			st.Edges.Both++
		}
		if e.Kind&Data != 0 && p.Call(int(e.From)).Session != p.Call(int(e.To)).Session {
			st.Edges.CrossSession++
		}
	}

	st.Correlations = len(p.Correlations)
	for _, c := range p.Correlations {
		st.BySource[c.Source.At.Part]++
		st.Uses += len(c.Uses)
		cross := false
		for _, u := range c.Uses {
			if u.Unordered {
				st.Unordered++
			}
			cross = cross || p.Call(u.Node).Session != p.Call(c.Source.Node).Session
		}
		if cross {
			st.CrossSession++
		}
	}

	if len(p.Nodes) > 0 {
		starts := make([]time.Duration, len(p.Nodes))
		ends := make([]time.Duration, len(p.Nodes))
		var last time.Duration
		for i, n := range p.Nodes {
			starts[i], ends[i] = n.Start, n.End
			last = max(last, n.End)
		}
		st.RecordedDuration = last - p.Nodes[0].Start
		st.RecordedPeak = peak(starts, ends)
		intended, done := s.Simulate()
		st.ExpectedDuration = slices.Max(done) - min(0, slices.Min(intended))
		st.PeakConcurrency = peak(intended, done)
	}
	return st
}

// Simulate returns each node's intended send time and completion time,
// assuming no generator lag and the recorded service time per request.
func (s *Schedule) Simulate() (intended, done []time.Duration) {
	n := len(s.plan.Nodes)
	intended = make([]time.Duration, n)
	done = make([]time.Duration, n)
	doneOf := func(i int) (time.Duration, bool) { return done[i], true }
	// Index order is topological, so every predecessor is already done.
	for i, nd := range s.plan.Nodes {
		intended[i], _ = s.Ready(i, doneOf)
		done[i] = intended[i] + nd.Service()
	}
	return intended, done
}

// peak is the most intervals [start, end) open at once; an interval that
// ends exactly when another starts does not overlap it.
func peak(starts, ends []time.Duration) int {
	s := slices.Clone(starts)
	e := slices.Clone(ends)
	slices.Sort(s)
	slices.Sort(e)
	open, best, j := 0, 0, 0
	for _, t := range s {
		for j < len(e) && e[j] <= t {
			j++
			open--
		}
		open++
		best = max(best, open)
	}
	return best
}
