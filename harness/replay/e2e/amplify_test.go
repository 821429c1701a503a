package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

const factor = 3

// TestAmplifiedClonesDoNotCollide replays the recording amplified 3 times
// (the original sessions and clones ~1 and ~2, each clone 50 ms after the
// previous one) against a new stack. Isolated is the default: a clone sends
// every identity the recording carries (the login user, /v1/players/{id})
// as its own value (plan.CloneValue: "tester-0003" → "tester-0003-r1"), and
// takes tokens and order ids from its own live responses. The stack must
// then know exactly 3× the recorded players, and each clone's player must
// have done on its own what the recorded player did: every grinder's
// mission stands, for the player and for each clone player, at the step the
// recording ended on. Had two clones acted as one player, that player's
// step would be a multiple of it.
func TestAmplifiedClonesDoNotCollide(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference stack")
	}
	rec := recordingOnce(t)
	recorded := players(rec.exchanges)
	require.NotEmpty(t, recorded)
	steps := finalSteps(t, rec)
	require.NotEmpty(t, steps, "the recording holds mission advances")

	r := replayFresh(t, rec, 1, func(p *plan.Plan) (*plan.Plan, error) {
		return p.Amplify(factor, plan.CloneOffset(50*time.Millisecond))
	})
	checkClones(t, r)
	requireAdvancesOK(t, r)

	var want []string
	for _, v := range recorded {
		for k := range factor {
			want = append(want, plan.CloneValue(v, k, factor))
		}
	}
	slices.Sort(want)
	assert.Equal(t, want, players(r.sent), "the stack saw 3× distinct players log in")
	market := r.marketplace(t)
	for _, p := range want {
		_, err := market.GetBalance(ctxT(t), &platform.GetBalanceRequest{Player: p})
		assert.NoError(t, err, "player %s exists", p)
	}

	missions := r.missions(t)
	for pm, step := range steps {
		for k := range factor {
			player := plan.CloneValue(pm.player, k, factor)
			got := progress(t, missions, player, pm.mission)
			assert.Equal(t, step, got, "clone %d's player %s, mission %s: advanced by that clone alone", k, player, pm.mission)
		}
	}
}

// TestAmplifiedClonesCollideWhenAsked: with plan.Collide(true) (what
// --collide asks for), "collide" means the clones send the recorded
// identities unchanged, so the stack sees one player per recorded player,
// driven by 3 sessions at once (each with its own login token): every
// entity keyed by the player is shared. The stack knows only the recorded
// players, none of the clone names, and every grinder's mission stands at
// exactly 3× the step the recording ended on: each of the three sessions
// advanced the same player's mission (the missions service increments
// atomically with its seeded fault off, so no advance is lost).
func TestAmplifiedClonesCollideWhenAsked(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference stack")
	}
	rec := recordingOnce(t)
	recorded := players(rec.exchanges)
	steps := finalSteps(t, rec)
	require.NotEmpty(t, steps, "the recording holds mission advances")

	r := replayFresh(t, rec, 1, func(p *plan.Plan) (*plan.Plan, error) {
		return p.Amplify(factor, plan.Collide(true), plan.CloneOffset(50*time.Millisecond))
	})
	checkClones(t, r)
	requireAdvancesOK(t, r)

	assert.Equal(t, recorded, players(r.sent), "the clones logged in as the recorded players")
	logins := 0
	for _, ex := range r.sent {
		if ex.GetRequest().GetPath() == "/v1/login" {
			logins++
		}
	}
	assert.Equal(t, factor*len(recorded), logins, "each clone logged in for itself")
	market := r.marketplace(t)
	for _, v := range recorded {
		_, err := market.GetBalance(ctxT(t), &platform.GetBalanceRequest{Player: v})
		assert.NoError(t, err, "player %s exists", v)
		for k := 1; k < factor; k++ {
			_, err := market.GetBalance(ctxT(t), &platform.GetBalanceRequest{Player: plan.CloneValue(v, k, factor)})
			assert.Equal(t, codes.NotFound, status.Code(err), "no clone player %s", plan.CloneValue(v, k, factor))
		}
	}
	missions := r.missions(t)
	for pm, step := range steps {
		assert.Equal(t, factor*step, progress(t, missions, pm.player, pm.mission),
			"%s, mission %s: advanced by all %d clones", pm.player, pm.mission, factor)
	}
}

// checkClones: every planned request of every clone has its result, clone
// sessions are named original~k.
func checkClones(t *testing.T, r *replayed) {
	t.Helper()
	require.Len(t, r.results, len(r.plan.Nodes))
	perClone := map[int]int{}
	for i := range r.plan.Nodes {
		nc := r.plan.Call(i)
		res := r.result(t, i)
		perClone[nc.Clone]++
		if nc.Clone > 0 {
			assert.True(t, strings.HasSuffix(res.GetSession(), "~"+strconv.Itoa(nc.Clone)), "clone %d session %q", nc.Clone, res.GetSession())
		}
	}
	require.Len(t, perClone, factor)
	for k := 1; k < factor; k++ {
		assert.Equal(t, perClone[0], perClone[k], "clone %d replays every request", k)
	}
	assert.Zero(t, r.sum.Errors.Transport)
	assert.Zero(t, r.sum.Requests.Dropped)
}

// requireAdvancesOK: the mission checks compare counts of advances, which
// only holds if every replayed advance was applied.
func requireAdvancesOK(t *testing.T, r *replayed) {
	t.Helper()
	for _, ex := range r.sent {
		if isAdvance(ex.GetRequest().GetMethod(), ex.GetRequest().GetPath()) {
			require.Equal(t, int32(http.StatusOK), ex.GetResponse().GetStatus(), "%s by %s", ex.GetRequest().GetPath(), ex.GetSession())
		}
	}
}

type playerMission struct{ player, mission string }

// finalSteps returns, per recorded player and mission, the step of the
// player's last advance. A player's requests are sequential, so the highest
// step answered is the last.
func finalSteps(t *testing.T, rec *recorded) map[playerMission]int32 {
	t.Helper()
	out := map[playerMission]int32{}
	for _, ex := range rec.exchanges {
		if !isAdvance(ex.GetRequest().GetMethod(), ex.GetRequest().GetPath()) || ex.GetResponse().GetStatus() != http.StatusOK {
			continue
		}
		var step int32
		_, err := fmt.Sscanf(jsonNumber(ex.GetResponse().GetBody().GetData(), "step"), "%d", &step)
		require.NoError(t, err, "recorded advance %s", ex.GetResponse().GetBody().GetData())
		mission := strings.TrimSuffix(strings.TrimPrefix(ex.GetRequest().GetPath(), "/v1/missions/"), "/advance")
		k := playerMission{ex.GetSession(), mission}
		out[k] = max(out[k], step)
	}
	return out
}

func isAdvance(method, path string) bool {
	return method == http.MethodPost && strings.HasPrefix(path, "/v1/missions/") && strings.HasSuffix(path, "/advance")
}

func progress(t *testing.T, c platform.MissionsClient, player, mission string) int32 {
	t.Helper()
	p, err := c.GetProgress(ctxT(t), &platform.GetProgressRequest{Player: player, Mission: mission})
	require.NoError(t, err)
	return p.GetStep()
}
