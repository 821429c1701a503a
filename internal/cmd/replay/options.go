package replay

import (
	"fmt"
	"time"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/plan"
	"github.com/reprise-dev/reprise/scenarios"
)

// replayOptions maps the scenario and the TLS flags to the replayer's
// options. anchor is the recording's clock anchor, for the time shift.
func (o *Options) replayOptions(sc *scenarios.Scenario, p *plan.Plan, anchor time.Time) ([]replay.Option, error) {
	var ro []replay.Option
	conf, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	if conf != nil {
		ro = append(ro, replay.TLS(conf))
	}
	if pr := provider(sc.Credentials); pr != nil {
		ro = append(ro, replay.Credentials(pr))
	}
	if sc.TimeShift {
		from, to, ok := span(p, anchor)
		if !ok {
			return nil, fmt.Errorf("replay: time_shift: the plan is empty")
		}
		// The replay starts now or at --start-at, whichever is later.
		start := o.now()
		if sc.StartAt.After(start) {
			start = sc.StartAt.Time
		}
		ro = append(ro, replay.TimeShift(start.Sub(from), from, to))
	}
	if !sc.Shard.IsZero() {
		ro = append(ro, replay.ShardLabel(sc.Shard.String()))
	}
	return ro, nil
}

// span is the wall-time span of the planned exchanges: from the first start
// to the last end.
func span(p *plan.Plan, anchor time.Time) (from, to time.Time, ok bool) {
	if len(p.Nodes) == 0 {
		return time.Time{}, time.Time{}, false
	}
	lo, hi := p.Nodes[0].Start, p.Nodes[0].End
	for _, n := range p.Nodes {
		lo, hi = min(lo, n.Start), max(hi, n.End)
	}
	return anchor.Add(lo), anchor.Add(hi), true
}
