package plan

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Amplification. Amplify(N) replays every session N times at once: the
// recorded original (clone 0) and clones 1..N-1. A clone is a full copy of
// the plan's graph: its nodes keep the original's exchange id (Node.ID), so
// results stay unique by (exchange id, Node.Clone), and its session is named
// original + "~" + k ("tester-3~2" is clone 2 of session "tester-3").
// CloneOffset(d) starts clone k k*d later: its nodes' Start and End, and so
// its intended times, shift by k*d. Clone sessions are sessions like any
// other to a Schedule: in Rate mode they are re-spaced by the curve along
// with the originals (the offset then only orders them).
//
// Identities. The values a client sends that name its user are found at
// Build time (see identity.go): identity keys in request JSON, forms,
// queries and WebSocket JSON frames, path segments after /players/, /users/
// and /accounts/, and every later occurrence of such a value in the same
// session's requests (path, query, header, cookie, form, JSON, gRPC string
// fields, WebSocket JSON frames). Values the server issued (correlations)
// and redaction placeholders are never identities.
//
// Isolated mode (the default, Collide(false)): clone k sends every identity
// v as CloneValue(v, k) — the e-mail local+"+rk"@domain, a purely numeric
// id prefixed with "9" and k, anything else v+"-rk" — through static
// Rewrites that the executor applies before live correlated values. Every
// correlation is duplicated per clone, source, uses and edges remapped to
// that clone's nodes, so each clone logs in as its own users and gets its own
// tokens and entity ids from the target. Clones share no data edge: each
// clone of a session is its own shard component.
//
// Collide mode (Collide(true)), for contention: clones send the original
// identities unchanged (Rewrites is nil), so the N copies of a session act as
// the same user at the same time and share every entity keyed by it (the
// player's balance, inventory, mission progress). Server-issued values are
// split in two. Session-bound ones (credentials: a correlation used in a
// request header or cookie, issued in a Set-Cookie, or found under a key
// naming a token, session, auth, jwt, csrf, nonce or ticket) stay per clone:
// each clone logs in and uses its own token. Every other correlation is an
// entity key (an order id, an item instance): clone k uses the original's
// live value, so it hits the very entity the original created; such a use
// is added to the original correlation and gets a data edge from the
// original's producer, unless the producer was still running when the use
// started (Ref.Unordered). Those cross-clone edges put all clones of a
// session in one shard component.

// MaxAmplify is the largest amplification factor Amplify accepts.
const MaxAmplify = 10000

// Rewrite is one static substitution in a request: Old, found at At, is sent
// as New. Old is always a whole token, and the executor should replace it
// only as one: a path segment (PartPath, raw as the path carries it), a
// whole query or form value after URL-decoding or a separator-delimited
// piece of it (PartQuery, PartForm: Path names the parameter), a piece of
// a header or cookie value (Path names it), a whole JSON leaf, string or
// number (PartJSON, PartWebSocket: Path is the JSON path), a whole gRPC
// string or varint field (PartGRPC). A request's rewrites are listed in
// request order, each (At, Old) once.
type Rewrite struct {
	At  Location `json:"at"`
	Old string   `json:"old"`
	New string   `json:"new"`
}

// AmplifyOption configures Amplify.
type AmplifyOption func(*ampConfig) error

type ampConfig struct {
	collide bool
	offset  time.Duration
}

// Collide makes clones share the original identities (contention mode); see
// the amplification note above.
func Collide(on bool) AmplifyOption {
	return func(c *ampConfig) error {
		c.collide = on
		return nil
	}
}

// CloneOffset starts clone k k*d later than the original. d must not be
// negative.
func CloneOffset(d time.Duration) AmplifyOption {
	return func(c *ampConfig) error {
		if d < 0 {
			return fmt.Errorf("%w: clone offset %s < 0", ErrBadOption, d)
		}
		c.offset = d
		return nil
	}
}

// amp is what an amplified plan remembers about its amplification.
type amp struct {
	factor  int
	collide bool
	offset  time.Duration
	width   int // digits of factor-1, for numeric identities
}

// Amplified reports the amplification factor (1 for a plan that was not
// amplified) and whether clones collide.
func (p *Plan) Amplified() (factor int, collide bool) {
	if p.amp == nil {
		return 1, false
	}
	return p.amp.factor, p.amp.collide
}

// Amplify returns a plan in which every session is replayed factor times:
// the original and factor-1 clones (see the amplification note). factor 1
// returns p itself; factor < 1 or > MaxAmplify, or amplifying a plan twice,
// is ErrBadOption. Node indexes stay in topological order (recorded start,
// shifted for clones, then exchange id, then clone) and Edges sorted by To,
// then From.
func (p *Plan) Amplify(factor int, opts ...AmplifyOption) (*Plan, error) {
	var cfg ampConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if factor < 1 || factor > MaxAmplify {
		return nil, fmt.Errorf("%w: amplify factor %d: want 1..%d", ErrBadOption, factor, MaxAmplify)
	}
	if factor == 1 {
		return p, nil
	}
	if p.amp != nil {
		return nil, fmt.Errorf("%w: plan is already amplified %d times", ErrBadOption, p.amp.factor)
	}
	n := len(p.Nodes)
	if int64(n)*int64(factor) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: amplify factor %d: %d requests would be too many", ErrBadOption, factor, int64(n)*int64(factor))
	}
	if cfg.offset > 0 && len(p.Nodes) > 0 {
		last := p.Nodes[n-1].End
		for _, nd := range p.Nodes {
			last = max(last, nd.End)
		}
		if cfg.offset > (math.MaxInt64-last)/time.Duration(factor) {
			return nil, fmt.Errorf("%w: clone offset %s times %d overflows", ErrBadOption, cfg.offset, factor)
		}
	}
	q := &Plan{
		dropped:  p.dropped * factor,
		origin:   p.origin,
		ident:    p.ident,
		identOff: p.identOff,
		amp: &amp{factor: factor, collide: cfg.collide, offset: cfg.offset,
			width: len(strconv.Itoa(factor - 1))},
	}
	shift := func(k int) time.Duration { return time.Duration(k) * cfg.offset }

	slots := p.cloneOrder(factor, cfg.offset) // slot = k*n + i
	pos := make([]int32, n*factor)            // slot -> new index
	q.Nodes = make([]Node, n*factor)
	q.baseOf = make([]int32, n*factor)
	type cloneCall struct {
		k    int
		call int32
	}
	// One Call per clone and original Call; a clone's session name is
	// made once per clone session.
	type cloneSession struct {
		k    int
		name string
	}
	cloned := make(map[cloneCall]int32)
	q.calls = slices.Clone(p.calls)
	names := make(map[cloneSession]string)
	for j, s := range slots {
		k, i := int(s)/n, int(s)%n
		pos[s] = int32(j)
		nd := p.Nodes[i]
		if k > 0 {
			c, ok := cloned[cloneCall{k, nd.call}]
			if !ok {
				orig := p.calls[nd.call]
				sess := cloneSession{k, orig.Session}
				name, ok := names[sess]
				if !ok {
					name = orig.Session + "~" + strconv.Itoa(k)
					names[sess] = name
				}
				cc := orig
				cc.Session, cc.Clone = name, k
				c = int32(len(q.calls))
				q.calls = append(q.calls, cc)
				cloned[cloneCall{k, nd.call}] = c
			}
			nd.call = c
			nd.Start += shift(k)
			nd.End += shift(k)
		}
		q.Nodes[j] = nd
		q.baseOf[j] = int32(p.base(i))
	}
	at := func(k, i int) int { return int(pos[k*n+i]) }

	// Correlations: clone 0 first, then each clone's own copies. Under
	// collide a shared correlation maps every clone to the clone 0 copy.
	nc := len(p.Correlations)
	shared := make([]bool, nc)
	if cfg.collide {
		for ci := range p.Correlations {
			shared[ci] = !sessionBound(p.Correlations[ci])
		}
	}
	corrIdx := make([]int32, nc*factor)
	q.Correlations = make([]Correlation, 0, nc*factor)
	for k := range factor {
		for ci, c := range p.Correlations {
			if k > 0 && shared[ci] {
				corrIdx[k*nc+ci] = corrIdx[ci]
				continue
			}
			corrIdx[k*nc+ci] = int32(len(q.Correlations))
			cc := Correlation{Value: c.Value, Source: c.Source, Uses: make([]Ref, len(c.Uses))}
			cc.Source.Node = at(k, c.Source.Node)
			for u, r := range c.Uses {
				r.Node = at(k, r.Node)
				cc.Uses[u] = r
			}
			q.Correlations = append(q.Correlations, cc)
		}
	}

	// Edges: each clone's copy; under collide the shared correlations leave
	// the copied edges and get edges from the original producer instead.
	// A clone's copy of a data edge stays one unless every value the edge
	// carries is shared; worked out once per edge, not once per clone.
	cloneData := make([]bool, len(p.Edges))
	for i, e := range p.Edges {
		cloneData[i] = e.Kind&Data != 0 && slices.ContainsFunc(p.EdgeCorrelations(e), func(c int) bool { return !shared[c] })
	}
	q.Edges = make([]Edge, 0, len(p.Edges)*factor)
	for k := range factor {
		for i, e := range p.Edges {
			ne := Edge{From: int32(at(k, int(e.From))), To: int32(at(k, int(e.To))), Kind: e.Kind & Order}
			if e.Kind&Data != 0 && (k == 0 || cloneData[i]) {
				ne.Kind |= Data
			}
			if ne.Kind != 0 {
				q.Edges = append(q.Edges, ne)
			}
		}
	}
	if cfg.collide {
		q.Edges = q.sharedUses(p, factor, shared, corrIdx, at)
	}
	sortEdges(q.Edges, len(q.Nodes))
	q.index()
	q.components()
	return q, nil
}

// sharedUses adds, for every clone k > 0 and every use of a shared
// correlation, the use to the original correlation and a data edge from the
// original producer when that producer was done before the use started.
func (q *Plan) sharedUses(p *Plan, factor int, shared []bool, corrIdx []int32, at func(k, i int) int) []Edge {
	type pair struct{ from, to int }
	edgeOf := make(map[pair]bool)
	edges := q.Edges
	for ci, c := range p.Correlations {
		if !shared[ci] {
			continue
		}
		qc := &q.Correlations[corrIdx[ci]]
		src := qc.Source.Node
		from := q.Nodes[src]
		for k := 1; k < factor; k++ {
			for _, u := range c.Uses {
				node := at(k, u.Node)
				to := q.Nodes[node]
				ordered := src < node && from.End <= to.Start
				u.Node, u.Unordered = node, !ordered
				qc.Uses = append(qc.Uses, u)
				if !ordered {
					continue
				}
				key := pair{src, node}
				if edgeOf[key] {
					continue
				}
				edgeOf[key] = true
				edges = append(edges, Edge{From: int32(src), To: int32(node), Kind: Data})
			}
		}
		slices.SortStableFunc(qc.Uses, func(a, b Ref) int { return a.Node - b.Node })
	}
	return edges
}

// credentialWords mark a key or header that carries a session credential.
var credentialWords = []string{"token", "session", "auth", "jwt", "csrf", "xsrf", "nonce", "ticket", "bearer", "sid"}

// sessionBound reports whether a correlation is a credential: used in a
// header or cookie, issued in a Set-Cookie, or found under a credential key.
func sessionBound(c Correlation) bool {
	if c.Source.At.Part == PartSetCookie || credentialKey(c.Source.At.Path) {
		return true
	}
	for _, u := range c.Uses {
		if u.At.Part == PartHeader || u.At.Part == PartCookie || credentialKey(u.At.Path) {
			return true
		}
	}
	return false
}

func credentialKey(path string) bool {
	k := strings.ToLower(lastKey(path))
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// base returns the index in the built plan that node i copies.
func (p *Plan) base(i int) int {
	if p.baseOf == nil {
		return i
	}
	return int(p.baseOf[i])
}

// Rewrites returns the static request rewrites of node i: for a clone of an
// isolated amplification, every identity the original request carried with
// its clone value. It is nil for originals, under collide, and for requests
// without identities. The executor applies them to the rebuilt request
// before substituting live correlated values.
func (p *Plan) Rewrites(i int) []Rewrite {
	if p.amp == nil || p.amp.collide || i < 0 || i >= len(p.Nodes) || p.Call(i).Clone == 0 {
		return nil
	}
	ids := p.identities(p.base(i))
	if len(ids) == 0 {
		return nil
	}
	out := make([]Rewrite, len(ids))
	for j, id := range ids {
		out[j] = Rewrite{At: id.At, Old: id.Value, New: cloneValue(id.Value, p.Call(i).Clone, p.amp.width)}
	}
	return out
}

// CloneValue is the identity v as clone k of a plan amplified factor times
// sends it: an e-mail gets "+rk" on its local part, a purely numeric id gets
// "9" and k (zero-padded to the width of factor-1) in front, anything else
// gets "-rk" after. Clone 0 (the original) keeps v.
func CloneValue(v string, k, factor int) string {
	if k <= 0 {
		return v
	}
	return cloneValue(v, k, len(strconv.Itoa(max(factor-1, 1))))
}

func cloneValue(v string, k, width int) string {
	ks := strconv.Itoa(k)
	if local, domain, ok := strings.Cut(v, "@"); ok && local != "" && domain != "" && !strings.Contains(domain, "@") {
		return local + "+r" + ks + "@" + domain
	}
	if allDigits(v) {
		return "9" + strings.Repeat("0", max(width-len(ks), 0)) + ks + v
	}
	return v + "-r" + ks
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Amplification summarises an amplified plan for the dry run.
type Amplification struct {
	Factor      int           `json:"factor"`
	Collide     bool          `json:"collide"`
	CloneOffset time.Duration `json:"clone_offset_ns"`
	// Identities are the identities the original sessions send, busiest
	// session first.
	Identities []SessionIdentities `json:"identities"`
	// Clones lists clones 1..Factor-1.
	Clones []CloneSummary `json:"clones"`
}

// SessionIdentities are the distinct identities one original session's
// requests carry, in order of first use, and how often they occur.
type SessionIdentities struct {
	Session     string   `json:"session"`
	Values      []string `json:"values"`
	Occurrences int      `json:"occurrences"`
}

// CloneSummary is one clone of an amplified plan.
type CloneSummary struct {
	Clone    int           `json:"clone"`
	Requests int           `json:"requests"`
	Sessions int           `json:"sessions"`
	Offset   time.Duration `json:"offset_ns"`
	// Rewrites counts the static rewrites of the clone's requests, and
	// Rewritten the requests that have at least one.
	Rewrites  int `json:"rewrites"`
	Rewritten int `json:"rewritten_requests"`
	// SharedCorrelations counts the original's correlations the clone uses
	// (collide mode: entity keys).
	SharedCorrelations int `json:"shared_correlations"`
}

// Amplification returns the summary of an amplified plan, nil for a plan
// that was not amplified.
func (p *Plan) Amplification() *Amplification {
	if p.amp == nil {
		return nil
	}
	a := &Amplification{Factor: p.amp.factor, Collide: p.amp.collide, CloneOffset: p.amp.offset}
	idx := map[string]int{}
	type seenKey struct {
		sess int
		v    string
	}
	seen := map[seenKey]bool{}
	a.Clones = make([]CloneSummary, p.amp.factor-1)
	cloneSess := make([]map[string]struct{}, p.amp.factor-1)
	for k := range a.Clones {
		a.Clones[k] = CloneSummary{Clone: k + 1, Offset: time.Duration(k+1) * p.amp.offset}
		cloneSess[k] = map[string]struct{}{}
	}
	for i := range p.Nodes {
		call := p.Call(i)
		if call.Clone > 0 {
			c := &a.Clones[call.Clone-1]
			c.Requests++
			cloneSess[call.Clone-1][call.Session] = struct{}{}
			if !p.amp.collide {
				if ids := p.identities(p.base(i)); len(ids) > 0 {
					c.Rewrites += len(ids)
					c.Rewritten++
				}
			}
			continue
		}
		ids := p.identities(p.base(i))
		if len(ids) == 0 {
			continue
		}
		s, ok := idx[call.Session]
		if !ok {
			s = len(a.Identities)
			idx[call.Session] = s
			a.Identities = append(a.Identities, SessionIdentities{Session: call.Session})
		}
		a.Identities[s].Occurrences += len(ids)
		for _, id := range ids {
			if k := (seenKey{s, id.Value}); !seen[k] {
				seen[k] = true
				a.Identities[s].Values = append(a.Identities[s].Values, id.Value)
			}
		}
	}
	for k := range a.Clones {
		a.Clones[k].Sessions = len(cloneSess[k])
	}
	for _, c := range p.Correlations {
		counted := map[int]bool{}
		for _, u := range c.Uses {
			if k := p.Call(u.Node).Clone; k > 0 && k != p.Call(c.Source.Node).Clone && !counted[k] {
				counted[k] = true
				a.Clones[k-1].SharedCorrelations++
			}
		}
	}
	slices.SortStableFunc(a.Identities, func(x, y SessionIdentities) int {
		return cmp.Or(y.Occurrences-x.Occurrences, cmp.Compare(x.Session, y.Session))
	})
	return a
}

// cloneOrder returns every (clone k, node i) as slot k*n+i, ordered by
// shifted start, exchange id, then clone. Each clone is the plan's own
// (start, id) order shifted by k*offset, so the order is a k-way merge of
// factor sorted runs: O(n*factor*log factor).
func (p *Plan) cloneOrder(factor int, offset time.Duration) []int32 {
	n := len(p.Nodes)
	out := make([]int32, 0, n*factor)
	if offset == 0 {
		// Equal shifts: clones of a node are adjacent, in clone order.
		for i := range n {
			for k := range factor {
				out = append(out, int32(k*n+i))
			}
		}
		return out
	}
	less := func(ka, ia, kb, ib int) bool {
		return cmp.Or(
			cmpDur(p.Nodes[ia].Start+time.Duration(ka)*offset, p.Nodes[ib].Start+time.Duration(kb)*offset),
			cmpU64(p.Nodes[ia].ID, p.Nodes[ib].ID),
			ka-kb,
		) < 0
	}
	// h is a binary min-heap of clones by their next node.
	next := make([]int, factor)
	h := make([]int, 0, factor)
	lessK := func(a, b int) bool { return less(h[a], next[h[a]], h[b], next[h[b]]) }
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && lessK(l, m) {
				m = l
			}
			if r := l + 1; r < len(h) && lessK(r, m) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	if n == 0 {
		return out
	}
	for k := range factor {
		h = append(h, k)
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		k := h[0]
		out = append(out, int32(k*n+next[k]))
		if next[k]++; next[k] == n {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
	return out
}

// sortEdges sorts edges by To, then From: a counting sort by To, then the
// few edges into each node by From.
func sortEdges(edges []Edge, nodes int) {
	off := make([]int32, nodes+1)
	for _, e := range edges {
		off[e.To+1]++
	}
	for i := range nodes {
		off[i+1] += off[i]
	}
	sorted := make([]Edge, len(edges))
	fill := slices.Clone(off[:nodes])
	for _, e := range edges {
		sorted[fill[e.To]] = e
		fill[e.To]++
	}
	for i := range nodes {
		b := sorted[off[i]:off[i+1]]
		if len(b) > 1 {
			slices.SortFunc(b, func(x, y Edge) int { return cmp.Compare(x.From, y.From) })
		}
	}
	copy(edges, sorted)
}
