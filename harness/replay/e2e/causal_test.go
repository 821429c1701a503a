package e2e_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// TestCausalReplayKeepsSessionOrder replays fresh tester traffic at speed 1
// and at speed 4, each against a new stack, and checks on results.rpr that
// causality survived the speed-up:
//   - every edge of the plan holds: a request that started after another
//     one ended in the recording (same session) or that uses a value from
//     its response was sent only once that request was done
//     (Result sent_ns ≥ the predecessor's done_ns);
//   - in every session whose recorded requests never overlapped, the
//     requests went out in exactly the recorded order (by sent_ns).
//
// Sessions here are players (the JWT subject) plus the client address for
// the logins, which overlap; the edge rule covers those.
func TestCausalReplayKeepsSessionOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference stack three times")
	}
	rec := recordingOnce(t)
	for _, speed := range []float64{1, 4} {
		t.Run(speedName(speed), func(t *testing.T) {
			r := replayFresh(t, rec, speed, nil)
			require.Len(t, r.results, len(r.plan.Nodes), "one result per planned request")
			require.Equal(t, len(r.plan.Nodes), r.sum.Requests.Sent)
			assert.Zero(t, r.sum.Requests.Dropped)
			assert.Zero(t, r.sum.Errors.Transport)

			orderEdges, dataEdges := 0, 0
			for _, e := range r.plan.Edges {
				from, to := r.result(t, int(e.From)), r.result(t, int(e.To))
				if e.Kind&plan.Order != 0 {
					orderEdges++
				}
				if e.Kind&plan.Data != 0 {
					dataEdges++
				}
				assert.GreaterOrEqual(t, to.GetSentNs(), from.GetDoneNs(),
					"%s edge %d→%d (%s %s → %s %s): sent after its predecessor was done",
					e.Kind, e.From, e.To, from.GetMethod(), from.GetRoute(), to.GetMethod(), to.GetRoute())
			}
			assert.Positive(t, orderEdges)
			assert.Positive(t, dataEdges)

			bySession := map[string][]int{}
			for i := range r.plan.Nodes {
				nc := r.plan.Call(i)
				bySession[nc.Session] = append(bySession[nc.Session], i)
			}
			sequential := 0
			for session, nodes := range bySession {
				if !recordedSequential(r.plan, nodes) {
					continue
				}
				sequential++
				sent := slices.Clone(nodes)
				slices.SortStableFunc(sent, func(a, b int) int {
					return int(r.result(t, a).GetSentNs() - r.result(t, b).GetSentNs())
				})
				assert.Equal(t, nodes, sent, "session %s: sent in recorded order", session)
			}
			assert.GreaterOrEqual(t, sequential, rec.pop.Count, "every player's session is sequential")
		})
	}
}

// recordedSequential tells whether each of the nodes (in plan order) started
// after the previous one ended in the recording.
func recordedSequential(p *plan.Plan, nodes []int) bool {
	for k := 1; k < len(nodes); k++ {
		if p.Nodes[nodes[k]].Start < p.Nodes[nodes[k-1]].End {
			return false
		}
	}
	return true
}

func speedName(s float64) string {
	if s == 1 {
		return "speed1"
	}
	return "speed4"
}
