package plan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

const pw = "rpr-redacted-0123456789abcdef01234567"

// identityRecording is a small game session: a login in a shared
// client-address session naming the player (and an e-mail), then the
// player's own session that names them in a path, a header, a query and a
// nested JSON field, and a numeric player in a second session.
func identityRecording() []ex {
	auth := func(tok string) [][2]string { return [][2]string{{"Authorization", "Bearer " + tok}} }
	return []ex{
		{id: 1, session: "10.0.0.1", method: "POST", path: "/v1/login", startMs: 0, endMs: 5,
			reqBody:  `{"user":"ann","email":"ann@example.com","password":"` + pw + `"}`,
			respBody: `{"token":"T0k3n-ann-0001","player_id":"ann"}`},
		{id: 2, session: "s-ann", path: "/v1/players/ann/inventory", startMs: 10, endMs: 12, reqHeaders: auth("T0k3n-ann-0001")},
		{id: 3, session: "s-ann", method: "POST", path: "/v1/items/5/buy", startMs: 20, endMs: 25,
			reqHeaders: append(auth("T0k3n-ann-0001"), [2]string{"X-Player", "ann"}),
			respBody:   `{"order_id":"ord-000123","item":{"name":"Rusty Blade"}}`},
		{id: 4, session: "s-ann", path: "/v1/orders/ord-000123", query: "by=ann&n=2", startMs: 30, endMs: 31, reqHeaders: auth("T0k3n-ann-0001")},
		{id: 5, session: "s-ann", method: "POST", path: "/v1/chat", startMs: 40, endMs: 41, reqHeaders: auth("T0k3n-ann-0001"),
			reqBody: `{"msg":{"from":"ann@example.com","text":"hi"},"spans":[{"name":"load"}],"item":{"name":"Blade"}}`},
		{id: 6, session: "10.0.0.1", method: "POST", path: "/v1/login", startMs: 50, endMs: 55,
			reqBody:  `{"user":"1234567","password":"` + pw + `"}`,
			respBody: `{"token":"T0k3n-num-0002"}`},
		{id: 7, session: "s-num", path: "/v1/users/1234567", startMs: 60, endMs: 61, reqHeaders: auth("T0k3n-num-0002")},
		{id: 8, session: "s-num", method: "POST", path: "/v1/register", startMs: 62, endMs: 63,
			reqBody: `{"id":"n-77","name":"Num Ber","client":"ios"}`},
		{id: 9, session: "s-num", path: "/v1/users/me/friends", startMs: 64, endMs: 65},
	}
}

// idsOf maps an exchange id to the identities its request carries, as
// "location=value".
func idsOf(p *plan.Plan) map[uint64][]string {
	out := map[uint64][]string{}
	for i, n := range p.Nodes {
		nc := p.Call(i)
		if nc.Clone != 0 {
			continue
		}
		for _, id := range p.Identities(i) {
			out[n.ID] = append(out[n.ID], id.At.String()+"="+id.Value)
		}
	}
	return out
}

func TestIdentitiesFound(t *testing.T) {
	p := build(t, identityRecording()...)
	got := idsOf(p)
	want := map[uint64][]string{
		1: {"json:$.user=ann", "json:$.email=ann@example.com"},
		2: {"path=ann"},
		3: {"header:X-Player=ann"},
		4: {"query:by=ann"},
		5: {"json:$.msg.from=ann@example.com"},
		6: {"json:$.user=1234567"},
		7: {"path=1234567"},
		8: {"json:$.id=n-77", "json:$.name=Num Ber"},
	}
	for id, w := range want {
		assert.ElementsMatch(t, w, got[id], "exchange %d", id)
	}
	assert.Len(t, got, len(want), "no identities elsewhere")
	// Neither the password placeholder, the token, the order id, a span's
	// or an item's name, nor a login's other fields are identities.
	all := fmt.Sprint(got)
	for _, not := range []string{pw, "T0k3n", "ord-000123", "load", "Blade", "ios", "hi"} {
		assert.NotContains(t, all, "="+not, not)
	}
}

func TestIssuedValuesAreNotIdentities(t *testing.T) {
	// The server issues the player id at registration; it is correlated
	// live, so it must not also be rewritten.
	p := build(t,
		ex{id: 1, session: "s", method: "POST", path: "/v1/register", startMs: 0, endMs: 1, reqBody: `{"name":"x"}`,
			respBody: `{"player_id":"p-00042"}`},
		ex{id: 2, session: "s", path: "/v1/players/p-00042/inventory", startMs: 2, endMs: 3},
	)
	require.Len(t, p.Correlations, 1)
	assert.Equal(t, map[uint64][]string{1: {"json:$.name=x"}}, idsOf(p))
}

func TestCloneValue(t *testing.T) {
	assert.Equal(t, "ann-r1", plan.CloneValue("ann", 1, 3))
	assert.Equal(t, "ann+r2@example.com", plan.CloneValue("ann@example.com", 2, 3))
	assert.Equal(t, "911234567", plan.CloneValue("1234567", 1, 3))
	assert.Equal(t, "90071234567", plan.CloneValue("1234567", 7, 101), "k is padded to the width of factor-1")
	assert.Equal(t, "ann", plan.CloneValue("ann", 0, 3), "clone 0 is the original")
	// Distinct across clones and values, stable within a clone.
	inputs := []string{"ann", "ann-r1", "12", "2", "112", "a@b.c", "a+r1@b.c", "0042", "42"}
	const factor = 20
	seen := map[string]string{}
	for _, v := range inputs {
		seen[v] = "original " + v
	}
	for k := 1; k < factor; k++ {
		for _, v := range inputs {
			nv := plan.CloneValue(v, k, factor)
			require.Equal(t, nv, plan.CloneValue(v, k, factor))
			who := fmt.Sprintf("clone %d of %q", k, v)
			if prev, dup := seen[nv]; dup && !strings.HasPrefix(prev, "original ") {
				t.Errorf("%s and %s both send %q", who, prev, nv)
			}
			seen[nv] = who
		}
	}
}

func TestAmplifyRewritesIdentities(t *testing.T) {
	p := build(t, identityRecording()...)
	a, err := p.Amplify(3)
	require.NoError(t, err)
	require.Len(t, a.Nodes, 3*len(p.Nodes))
	rw := map[string][]string{} // "exchange/clone" -> rewrites
	for i, n := range a.Nodes {
		nc := a.Call(i)
		assert.Equal(t, nc.Clone == 0, strings.Count(nc.Session, "~") == 0, "session %q clone %d", nc.Session, nc.Clone)
		if nc.Clone > 0 {
			assert.True(t, strings.HasSuffix(nc.Session, fmt.Sprintf("~%d", nc.Clone)))
		}
		for _, r := range a.Rewrites(i) {
			key := fmt.Sprintf("%d/%d", n.ID, nc.Clone)
			rw[key] = append(rw[key], fmt.Sprintf("%s %s->%s", r.At, r.Old, r.New))
		}
	}
	assert.ElementsMatch(t, []string{"json:$.user ann->ann-r1", "json:$.email ann@example.com->ann+r1@example.com"}, rw["1/1"])
	assert.ElementsMatch(t, []string{"json:$.user ann->ann-r2", "json:$.email ann@example.com->ann+r2@example.com"}, rw["1/2"])
	assert.Equal(t, []string{"path ann->ann-r2"}, rw["2/2"])
	assert.Equal(t, []string{"header:X-Player ann->ann-r1"}, rw["3/1"])
	assert.Equal(t, []string{"query:by ann->ann-r1"}, rw["4/1"])
	assert.Equal(t, []string{"json:$.msg.from ann@example.com->ann+r1@example.com"}, rw["5/1"])
	assert.Equal(t, []string{"json:$.user 1234567->911234567"}, rw["6/1"])
	assert.Equal(t, []string{"path 1234567->921234567"}, rw["7/2"])
	for k := range rw {
		assert.False(t, strings.HasSuffix(k, "/0"), "original %s is rewritten", k)
	}
	assert.Nil(t, a.Rewrites(-1))
	assert.Nil(t, a.Rewrites(len(a.Nodes)))
}

// checkAmplified asserts the structural invariants of an amplified plan.
func checkAmplified(t *testing.T, p, a *plan.Plan, factor int) {
	t.Helper()
	require.Len(t, a.Nodes, factor*len(p.Nodes))
	perClone := make([]int, factor)
	for ni := range a.Nodes {
		nc := a.Call(ni)
		perClone[nc.Clone]++
	}
	for k := range factor {
		assert.Equal(t, len(p.Nodes), perClone[k], "clone %d", k)
	}
	// Plain checks: testify in loops this long is slow under -race.
	for i, e := range a.Edges {
		if e.From >= e.To {
			t.Fatalf("edge %d goes backward: %+v", i, e)
		}
		if i > 0 {
			if prev := a.Edges[i-1]; !(prev.To < e.To || prev.To == e.To && prev.From < e.From) {
				t.Fatalf("edges not sorted by To, then From at %d: %+v, %+v", i, prev, e)
			}
		}
		if e.Kind&plan.Data != 0 && len(a.EdgeCorrelations(e)) == 0 {
			t.Fatalf("data edge %d carries no correlation: %+v", i, e)
		}
	}
	for i := range a.Nodes {
		for _, e := range a.Preds(i) {
			if int(e.To) != i {
				t.Fatalf("Preds(%d) holds %+v", i, e)
			}
		}
		if i > 0 && a.Nodes[i-1].Start > a.Nodes[i].Start {
			t.Fatalf("index order is not start order at %d", i)
		}
	}
	for _, c := range a.Correlations {
		if a.Nodes[c.Source.Node].ID != c.Source.Exchange {
			t.Fatalf("correlation %q: source node and exchange disagree", c.Value)
		}
		for _, u := range c.Uses {
			if a.Nodes[u.Node].ID != u.Exchange {
				t.Fatalf("correlation %q: use node and exchange disagree", c.Value)
			}
		}
	}
}

func TestAmplifyDuplicatesCorrelationsPerClone(t *testing.T) {
	for _, p := range []*plan.Plan{synthPlan(t, 3000, 3), loadPlan(t, "long-mixed.rpr")} {
		a, err := p.Amplify(4)
		require.NoError(t, err)
		checkAmplified(t, p, a, 4)
		require.Len(t, a.Correlations, 4*len(p.Correlations))
		require.Len(t, a.Edges, 4*len(p.Edges))
		count := map[string]int{}
		for _, c := range a.Correlations {
			k := a.Call(c.Source.Node).Clone
			for _, u := range c.Uses {
				if a.Call(u.Node).Clone != k {
					t.Fatalf("value %q: clone %d uses clone %d's producer", c.Value, a.Call(u.Node).Clone, k)
				}
			}
			count[c.Value]++
		}
		for _, c := range p.Correlations {
			assert.Equal(t, 4, count[c.Value], "value %q once per clone", c.Value)
		}
		ast, pst := a.Stats(), p.Stats()
		assert.Equal(t, 4*pst.Components, ast.Components, "isolated clones are separate components")
		assert.Equal(t, 4*pst.Sessions, ast.Sessions)
		assert.Equal(t, 4*pst.Uses, ast.Uses)
	}
}

func TestAmplifyLongMixedPlayers(t *testing.T) {
	p := loadPlan(t, "long-mixed.rpr")
	const factor = 3
	a, err := p.Amplify(factor)
	require.NoError(t, err)
	am := a.Amplification()
	require.NotNil(t, am)
	bySession := map[string][]string{}
	for _, si := range am.Identities {
		bySession[si.Session] = si.Values
	}
	// Every tester session names its own player (the reference stack's
	// session key is the player), and the shared login session names all
	// of them.
	testers := 0
	for sess := range sessionsOf(p) {
		if !strings.HasPrefix(sess, "tester-") {
			continue
		}
		testers++
		assert.Equal(t, []string{sess}, bySession[sess], "session %s", sess)
	}
	require.Equal(t, 30, testers)
	assert.Len(t, bySession["127.0.0.1"], 30)

	logins, players := 0, 0
	news := make([]map[string]bool, factor)
	for k := range news {
		news[k] = map[string]bool{}
	}
	for i, n := range a.Nodes {
		nc := a.Call(i)
		rws := a.Rewrites(i)
		for _, r := range rws {
			news[nc.Clone][r.New] = true
			assert.Equal(t, plan.CloneValue(r.Old, nc.Clone, factor), r.New)
		}
		if nc.Clone == 0 {
			assert.Empty(t, rws)
			continue
		}
		switch {
		case nc.Route == "/v1/login":
			logins++
			require.Len(t, rws, 1, "exchange %d", n.ID)
			assert.Equal(t, plan.Location{Part: plan.PartJSON, Path: "$.user"}, rws[0].At)
			assert.Equal(t, "-r"+fmt.Sprint(nc.Clone), strings.TrimPrefix(rws[0].New, rws[0].Old))
		case strings.HasPrefix(nc.Route, "/v1/players/{id}/"):
			players++
			require.Len(t, rws, 1, "exchange %d", n.ID)
			assert.Equal(t, plan.PartPath, rws[0].At.Part)
			player := strings.TrimSuffix(nc.Session, fmt.Sprintf("~%d", nc.Clone))
			assert.Equal(t, player, rws[0].Old)
			assert.Equal(t, player+fmt.Sprintf("-r%d", nc.Clone), rws[0].New)
		}
	}
	assert.Equal(t, 2*30, logins)
	assert.Positive(t, players)
	// No identity one clone sends is sent by another clone or the original.
	for k := 1; k < factor; k++ {
		for v := range news[k] {
			for j := 1; j < factor; j++ {
				assert.False(t, j != k && news[j][v], "clones %d and %d both send %q", k, j, v)
			}
			for _, orig := range bySession["127.0.0.1"] {
				assert.NotEqual(t, orig, v)
			}
		}
	}
}

func sessionsOf(p *plan.Plan) map[string]bool {
	out := map[string]bool{}
	for ni := range p.Nodes {
		nc := p.Call(ni)
		out[nc.Session] = true
	}
	return out
}

func TestAmplifyCollideSharesIdentitiesAndEntities(t *testing.T) {
	p := synthPlan(t, 3000, 3)
	const factor = 3
	a, err := p.Amplify(factor, plan.Collide(true))
	require.NoError(t, err)
	checkAmplified(t, p, a, factor)
	f, collide := a.Amplified()
	assert.Equal(t, factor, f)
	assert.True(t, collide)
	for i := range a.Nodes {
		require.Nil(t, a.Rewrites(i), "collide sends the original identities")
	}
	tokens, shared := 0, 0
	for _, c := range a.Correlations {
		src := a.Call(c.Source.Node)
		clones := map[int]bool{}
		for _, u := range c.Uses {
			clones[a.Call(u.Node).Clone] = true
		}
		switch {
		case strings.HasPrefix(c.Value, "rpr-redacted-"):
			// A credential: each clone logs in and uses its own token.
			tokens++
			assert.Equal(t, map[int]bool{src.Clone: true}, clones, "token %q", c.Value)
		case strings.HasPrefix(c.Value, "ord-"):
			// An entity key: every clone fetches the original's order.
			shared++
			require.Equal(t, 0, src.Clone)
			assert.Len(t, clones, factor, "order %q", c.Value)
			for _, u := range c.Uses {
				if a.Call(u.Node).Clone == 0 || u.Unordered {
					continue
				}
				_, ok := edgeAt(a, c.Source.Node, u.Node)
				assert.True(t, ok, "data edge from the original producer of %q to clone use %d", c.Value, u.Node)
			}
		}
	}
	pTokens := 0
	for _, c := range p.Correlations {
		if strings.HasPrefix(c.Value, "rpr-redacted-") {
			pTokens++
		}
	}
	assert.Equal(t, factor*pTokens, tokens)
	require.Positive(t, shared)
	assert.Less(t, a.Stats().Components, factor*p.Stats().Components, "shared entity keys join clones")
	for _, c := range a.Correlations {
		for _, u := range c.Uses {
			assert.Equal(t, a.ShardOf(c.Source.Node, 7), a.ShardOf(u.Node, 7), "value %q crosses shards", c.Value)
		}
	}
	am := a.Amplification()
	require.NotNil(t, am)
	assert.Positive(t, am.Clones[0].SharedCorrelations)
	assert.Zero(t, am.Clones[0].Rewrites)
}

func edgeAt(p *plan.Plan, from, to int) (plan.Edge, bool) {
	for _, e := range p.Preds(to) {
		if int(e.From) == from {
			return e, true
		}
	}
	return plan.Edge{}, false
}

func TestCloneOffsetShiftsClones(t *testing.T) {
	p := synthPlan(t, 2000, 4)
	const d = 3 * time.Second
	a, err := p.Amplify(3, plan.CloneOffset(d))
	require.NoError(t, err)
	checkAmplified(t, p, a, 3)
	orig := map[uint64]plan.Node{}
	for _, n := range p.Nodes {
		orig[n.ID] = n
	}
	for ni, n := range a.Nodes {
		nc := a.Call(ni)
		o := orig[n.ID]
		assert.Equal(t, o.Start+time.Duration(nc.Clone)*d, n.Start)
		assert.Equal(t, o.End+time.Duration(nc.Clone)*d, n.End)
	}
	s, err := a.Schedule(plan.Causal)
	require.NoError(t, err)
	ps, err := p.Schedule(plan.Causal)
	require.NoError(t, err)
	base := map[uint64]time.Duration{}
	for i, n := range p.Nodes {
		base[n.ID] = ps.Base(i)
	}
	intended, _ := s.Simulate()
	for i, n := range a.Nodes {
		nc := a.Call(i)
		assert.Equal(t, base[n.ID]+time.Duration(nc.Clone)*d, s.Base(i))
		assert.GreaterOrEqual(t, intended[i], s.Base(i))
	}
	assert.Equal(t, p.Stats().ExpectedDuration+2*d, a.Stats().ExpectedDuration)
	_, err = p.Amplify(2, plan.CloneOffset(-time.Second))
	assert.ErrorIs(t, err, plan.ErrBadOption)
}

func TestAmplifyValidates(t *testing.T) {
	p := build(t, identityRecording()...)
	for _, f := range []int{0, -1, plan.MaxAmplify + 1} {
		_, err := p.Amplify(f)
		assert.ErrorIs(t, err, plan.ErrBadOption, "factor %d", f)
	}
	same, err := p.Amplify(1, plan.Collide(true))
	require.NoError(t, err)
	assert.Same(t, p, same)
	f, _ := p.Amplified()
	assert.Equal(t, 1, f)
	assert.Nil(t, p.Amplification())
	a, err := p.Amplify(2)
	require.NoError(t, err)
	_, err = a.Amplify(2)
	assert.ErrorIs(t, err, plan.ErrBadOption, "amplifying twice")
	_, err = p.Amplify(plan.MaxAmplify, plan.CloneOffset(time.Duration(1<<62)))
	assert.ErrorIs(t, err, plan.ErrBadOption, "offsets overflow")

	empty, err := plan.Build(nil)
	require.NoError(t, err)
	for _, d := range []time.Duration{0, time.Second} {
		e, err := empty.Amplify(3, plan.CloneOffset(d))
		require.NoError(t, err)
		assert.Empty(t, e.Nodes)
		require.NoError(t, e.WriteDryRun(io.Discard))
	}
}

func TestAmplifiedScheduleRunsToCompletion(t *testing.T) {
	p := synthPlan(t, 2000, 6)
	for _, collide := range []bool{false, true} {
		a, err := p.Amplify(3, plan.Collide(collide), plan.CloneOffset(100*time.Millisecond))
		require.NoError(t, err)
		for _, mode := range []plan.Mode{plan.Causal, plan.ASAP, plan.Recorded} {
			s, err := a.Schedule(mode)
			require.NoError(t, err)
			sent, done := replay(t, s, func(i int) time.Duration { return a.Nodes[i].Service() })
			for i := range a.Nodes {
				for _, e := range a.Preds(i) {
					if s.Waits() && sent[i] < done[e.From] {
						t.Fatalf("%s: node %d sent before its predecessor %d was done", mode, i, e.From)
					}
				}
			}
		}
		s, err := a.Schedule(plan.Rate, plan.SessionRate(50))
		require.NoError(t, err)
		replay(t, s, func(int) time.Duration { return time.Millisecond })
	}
}

func TestAmplifiedDryRun(t *testing.T) {
	p := loadPlan(t, "long-mixed.rpr")
	a, err := p.Amplify(3, plan.CloneOffset(time.Second))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, a.WriteDryRun(&buf))
	golden(t, "long-mixed.amplify.dryrun.txt", buf.Bytes())
	assert.Contains(t, buf.String(), `"tester-0028" -> "tester-0028-r1"`)

	c, err := p.Amplify(2, plan.Collide(true))
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, c.WriteDryRun(&buf))
	golden(t, "long-mixed.collide.dryrun.txt", buf.Bytes())

	buf.Reset()
	require.NoError(t, a.WriteDryRunJSON(&buf))
	var d plan.DryRun
	require.NoError(t, json.Unmarshal(buf.Bytes(), &d))
	require.NotNil(t, d.Amplification)
	assert.Equal(t, 3, d.Amplification.Factor)
	assert.Equal(t, time.Second, d.Amplification.CloneOffset)
	require.Len(t, d.Amplification.Clones, 2)
	assert.Equal(t, 2*time.Second, d.Amplification.Clones[1].Offset)
	assert.Equal(t, len(p.Nodes), d.Amplification.Clones[0].Requests)
	assert.Positive(t, d.Amplification.Clones[0].Rewrites)
	assert.Equal(t, d.Amplification.Clones[0].Rewrites, d.Amplification.Clones[1].Rewrites)
	assert.Len(t, d.Requests, 3*len(p.Nodes))
	clones := 0
	for _, r := range d.Requests {
		if r.Clone > 0 {
			clones++
		}
	}
	assert.Equal(t, 2*len(p.Nodes), clones)
	rewritten := 0
	for _, r := range d.Requests {
		if len(r.Rewrites) > 0 {
			rewritten++
			require.Positive(t, r.Clone, "only clones are rewritten")
		}
	}
	assert.Equal(t, d.Amplification.Clones[0].Rewritten+d.Amplification.Clones[1].Rewritten, rewritten)

	// An unamplified plan's JSON has no amplification section.
	buf.Reset()
	require.NoError(t, p.WriteDryRunJSON(&buf))
	assert.NotContains(t, buf.String(), `"amplification"`)
	assert.NotContains(t, buf.String(), `"clone"`)
}

func BenchmarkAmplify(b *testing.B) {
	p, err := plan.Build(synthetic(100_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		factor int
		opts   []plan.AmplifyOption
	}{
		{"100k-x2", 2, nil},
		{"100k-x10", 10, nil},
		{"100k-x10-collide", 10, []plan.AmplifyOption{plan.Collide(true), plan.CloneOffset(time.Second)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Amplify(tc.factor, tc.opts...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tc.factor*len(p.Nodes)), "ns/node")
		})
	}
}

func FuzzIdentities(f *testing.F) {
	f.Add("/v1/players/ann/inventory", "by=ann", `{"user":"ann","email":"a@b.c","p":{"name":"x"}}`)
	f.Add("/v1/login", "", `{"id":"1234","spans":[{"name":"load"}]}`)
	f.Add("/users/", "user=&email=%zz", `[{"player":`)
	f.Fuzz(func(t *testing.T, path, query, body string) {
		p, err := plan.Build([]*rprpb.Exchange{
			ex{id: 1, session: "s", method: "POST", path: path, query: query, reqBody: body, startMs: 0, endMs: 1}.pb(),
			ex{id: 2, session: "s", method: "POST", path: path, query: query, reqBody: body, startMs: 2, endMs: 3,
				reqHeaders: [][2]string{{"X-Who", body}}}.pb(),
		})
		if err != nil {
			t.Fatal(err)
		}
		a, err := p.Amplify(2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Nodes {
			nc := a.Call(i)
			for _, r := range a.Rewrites(i) {
				if nc.Clone != 1 || r.Old == "" || r.New != plan.CloneValue(r.Old, 1, 2) || r.Old == r.New {
					t.Fatalf("bad rewrite %+v on clone %d", r, nc.Clone)
				}
			}
			if nc.Clone == 0 && a.Rewrites(i) != nil {
				t.Fatalf("original %d rewritten", i)
			}
		}
	})
}
