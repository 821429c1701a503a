package plan_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func TestShardsPartitionWholeComponents(t *testing.T) {
	for _, p := range []*plan.Plan{synthPlan(t, 5000, 11), loadPlan(t, "long-mixed.rpr"), loadPlan(t, "trading-burst.rpr")} {
		st := p.Stats()
		require.Greater(t, st.Components, 1, "logins sharing a session key must not weld testers together")
		for _, n := range []int{1, 2, 3, 7} {
			owner := map[uint64]int{}
			dropped := 0
			for i := range n {
				s, err := p.Shard(i, n)
				require.NoError(t, err)
				for _, nd := range s.Nodes {
					_, dup := owner[nd.ID]
					require.False(t, dup, "exchange %d in two shards", nd.ID)
					owner[nd.ID] = i
				}
				for _, c := range s.Correlations {
					for _, u := range c.Uses {
						assert.Equal(t, i, owner[s.Nodes[u.Node].ID])
					}
				}
				dropped += s.Stats().Edges.Dropped
				// Every shard can be scheduled and run to completion.
				sch, err := s.Schedule(plan.Causal)
				require.NoError(t, err)
				run, due := sch.NewRun()
				for len(due) > 0 {
					d := due[0]
					next, err := run.Done(d.Node, d.At+s.Nodes[d.Node].Service())
					require.NoError(t, err)
					due = append(due[1:], next...)
				}
				require.Zero(t, run.Remaining())
			}
			require.Len(t, owner, len(p.Nodes), "union of shards is the plan")
			// No data-flow edge crosses shards: every correlation's producer
			// and uses landed together.
			for _, c := range p.Correlations {
				for _, u := range c.Uses {
					assert.Equal(t, owner[c.Source.Exchange], owner[u.Exchange], "value %q crosses shards", c.Value)
				}
			}
			if n == 1 {
				assert.Zero(t, dropped)
			}
		}
	}
}

func TestShardIsStableAndValidated(t *testing.T) {
	a, b := synthPlan(t, 2000, 5), synthPlan(t, 2000, 5)
	for i := range a.Nodes {
		require.Equal(t, a.ShardOf(i, 4), b.ShardOf(i, 4))
	}
	_, err := a.Shard(4, 4)
	assert.ErrorIs(t, err, plan.ErrBadOption)
	_, err = a.Shard(0, 0)
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func TestRunIsSafeForConcurrentCompletions(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := synthPlan(t, 2000, 9)
	s, err := p.Schedule(plan.ASAP)
	require.NoError(t, err)
	run, due := s.NewRun()
	work := make(chan plan.Due)
	results := make(chan []plan.Due)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for d := range work {
				next, err := run.Done(d.Node, d.At+time.Millisecond)
				assert.NoError(t, err)
				results <- next
			}
		})
	}
	// The dispatcher owns the queue; workers complete nodes concurrently.
	queue, inFlight, released := due, 0, len(due)
	for len(queue) > 0 || inFlight > 0 {
		var send chan plan.Due
		var head plan.Due
		if len(queue) > 0 {
			send, head = work, queue[0]
		}
		select {
		case send <- head:
			queue = queue[1:]
			inFlight++
		case next := <-results:
			inFlight--
			released += len(next)
			queue = append(queue, next...)
		}
	}
	close(work)
	wg.Wait()
	assert.Zero(t, run.Remaining())
	assert.Equal(t, len(p.Nodes), released)
}

func TestAmplifyThenShardPartitionsExactly(t *testing.T) {
	// Shard after Amplify, and Amplify after Shard: both keep identities.
	for _, collide := range []bool{false, true} {
		// The synthetic recording's logins send no name (the server issues
		// the player id, a correlation), so only long-mixed has identities.
		for pi, p := range []*plan.Plan{synthPlan(t, 3000, 8), loadPlan(t, "long-mixed.rpr")} {
			a, err := p.Amplify(3, plan.Collide(collide))
			require.NoError(t, err)
			type key struct {
				id    uint64
				clone int
			}
			owner := map[key]int{}
			rewrites := 0
			for _, n := range []int{1, 2, 5} {
				clear(owner)
				rewrites = 0
				for i := range n {
					s, err := a.Shard(i, n)
					require.NoError(t, err)
					for j, nd := range s.Nodes {
						ndc := s.Call(j)
						k := key{nd.ID, ndc.Clone}
						if _, dup := owner[k]; dup {
							t.Fatalf("%v in two shards", k)
						}
						owner[k] = i
						rewrites += len(s.Rewrites(j))
					}
					sch, err := s.Schedule(plan.Causal)
					require.NoError(t, err)
					replay(t, sch, func(j int) time.Duration { return s.Nodes[j].Service() })
				}
				require.Len(t, owner, len(a.Nodes), "union of shards is the plan")
				for _, c := range a.Correlations {
					src := key{a.Nodes[c.Source.Node].ID, a.Call(c.Source.Node).Clone}
					for _, u := range c.Uses {
						if owner[src] != owner[key{a.Nodes[u.Node].ID, a.Call(u.Node).Clone}] {
							t.Fatalf("value %q crosses shards", c.Value)
						}
					}
				}
				all := 0
				for j := range a.Nodes {
					all += len(a.Rewrites(j))
				}
				assert.Equal(t, all, rewrites, "shards keep the rewrites")
				if !collide && pi == 1 {
					assert.Positive(t, rewrites)
				}
			}
			// Shard first, then amplify: the shard's clones keep their identities.
			s, err := p.Shard(0, 2)
			require.NoError(t, err)
			sa, err := s.Amplify(2, plan.Collide(collide))
			require.NoError(t, err)
			for j := range sa.Nodes {
				ndc := sa.Call(j)
				if ndc.Clone == 1 && !collide {
					require.Len(t, sa.Rewrites(j), len(sa.Identities(j)))
				}
			}
		}
	}
}
