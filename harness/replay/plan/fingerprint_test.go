package plan_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// A plan's fingerprint names the recording, filters and amplification it
// replays; its shards carry the whole plan's, and a rate schedule adds its
// curve.
func TestFingerprintNamesWhatIsReplayed(t *testing.T) {
	exs := synthetic(600, 1)
	build := func(opts ...plan.Option) *plan.Plan {
		p, err := plan.Build(exs, opts...)
		require.NoError(t, err)
		return p
	}
	p := build()
	fp := p.Fingerprint()
	assert.Len(t, fp, 32)
	assert.Equal(t, fp, build().Fingerprint(), "the same recording, the same plan")
	assert.NotEqual(t, fp, build(plan.Window(0, time.Duration(exs[len(exs)/2].GetStartNs()))).Fingerprint(), "another window")
	other, err := plan.Build(synthetic(600, 2))
	require.NoError(t, err)
	assert.NotEqual(t, fp, other.Fingerprint(), "another recording")
	amp, err := p.Amplify(2)
	require.NoError(t, err)
	assert.NotEqual(t, fp, amp.Fingerprint(), "amplified")
	for i := range 3 {
		s, err := p.Shard(i, 3)
		require.NoError(t, err)
		assert.Equal(t, fp, s.Fingerprint(), "shard %d/3 names the whole plan", i)
	}

	sched := func(mode plan.Mode, opts ...plan.ScheduleOption) string {
		s, err := p.Schedule(mode, opts...)
		require.NoError(t, err)
		return s.Fingerprint()
	}
	assert.Equal(t, sched(plan.Causal), sched(plan.Causal))
	assert.NotEqual(t, sched(plan.Causal), sched(plan.ASAP))
	assert.NotEqual(t, sched(plan.Causal), sched(plan.Causal, plan.Speed(2)))
	assert.NotEqual(t, sched(plan.Rate, plan.SessionRate(5)), sched(plan.Rate, plan.SessionRate(50)))
}
