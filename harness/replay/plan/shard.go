package plan

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
)

// Sharding. N machines must partition the exchanges exactly, and a request
// must never land on a machine without the exchange that issues the value
// it sends. The unit is therefore the connected component of the data-flow
// graph, not the raw session: a session is one vertex, and so is each
// exchange whose values are used in another session. That second kind of
// vertex matters: logins often share a weak session key (the client
// address) while each issues the token of a different tester session;
// treating that key as one vertex would weld every tester into one
// component. So a login joins the session it serves, and only its ordering
// edges within its own weak session may cross shards. A shard drops those
// edges (Plan.Stats counts them); the node then keeps only its recorded
// offset, which still orders it approximately. Data-flow edges never cross
// shards. A component goes to shard FNV-1a64(key) mod N, where key is the
// smallest vertex name in it ("session" or "session#exchange-id"), so
// every machine that plans the same recording with the same filters
// computes the same partition.

// components assigns every node its shard unit.
func (p *Plan) components() {
	n := len(p.Nodes)
	sessID := make(map[string]int32)
	var names []string
	nodeSess := make([]int32, n)
	for i := range p.Nodes {
		sess := p.Call(i).Session
		id, ok := sessID[sess]
		if !ok {
			id = int32(len(names))
			sessID[sess] = id
			names = append(names, sess)
		}
		nodeSess[i] = id
	}
	// Producers whose values cross sessions get vertices of their own.
	vert := make([]int32, n)
	copy(vert, nodeSess)
	for _, c := range p.Correlations {
		src := c.Source.Node
		for _, u := range c.Uses {
			if nodeSess[u.Node] != nodeSess[src] && vert[src] == nodeSess[src] {
				vert[src] = int32(len(names))
				names = append(names, p.Call(src).Session+"#"+strconv.FormatUint(p.Nodes[src].ID, 10))
			}
		}
	}
	uf := newUnionFind(len(names))
	for _, c := range p.Correlations {
		for _, u := range c.Uses {
			uf.union(vert[c.Source.Node], vert[u.Node])
		}
	}
	// Name each component by its smallest vertex name.
	best := make(map[int32]int32)
	for v := range names {
		r := uf.find(int32(v))
		if b, ok := best[r]; !ok || names[v] < names[b] {
			best[r] = int32(v)
		}
	}
	p.comp = make([]int32, n)
	p.compKey = make([]string, 0, len(best))
	keyID := make(map[int32]int32, len(best))
	for i := range p.Nodes {
		r := uf.find(vert[i])
		id, ok := keyID[r]
		if !ok {
			id = int32(len(p.compKey))
			keyID[r] = id
			p.compKey = append(p.compKey, names[best[r]])
		}
		p.comp[i] = id
	}
}

type unionFind struct{ parent []int32 }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

func (u *unionFind) union(a, b int32) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u.parent[max(ra, rb)] = min(ra, rb)
	}
}

// ShardOf returns the shard (0..n-1) that node i belongs to among n.
func (p *Plan) ShardOf(i, n int) int {
	h := fnv.New64a()
	h.Write([]byte(p.compKey[p.comp[i]]))
	return int(h.Sum64() % uint64(n))
}

// Shard returns the part of the plan that shard i of n replays: whole
// components, see the sharding note above. Node indexes change; exchange
// ids do not.
func (p *Plan) Shard(i, n int) (*Plan, error) {
	if n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("%w: shard %d/%d: want 0 <= i < n", ErrBadOption, i, n)
	}
	keep := make([]bool, len(p.Nodes))
	for k := range p.Nodes {
		keep[k] = p.ShardOf(k, n) == i
	}
	q := p.subset(keep)
	q.whole = p.Fingerprint()
	return q, nil
}

// subset keeps the marked nodes with the edges and correlations among them.
func (p *Plan) subset(keep []bool) *Plan {
	remap := make([]int, len(p.Nodes))
	q := &Plan{calls: p.calls, dropped: p.dropped, compKey: p.compKey, origin: p.origin, ident: p.ident, identOff: p.identOff, amp: p.amp}
	for k, nd := range p.Nodes {
		remap[k] = -1
		if keep[k] {
			remap[k] = len(q.Nodes)
			q.Nodes = append(q.Nodes, nd)
			q.comp = append(q.comp, p.comp[k])
			q.baseOf = append(q.baseOf, int32(p.base(k)))
		}
	}
	for _, c := range p.Correlations {
		if !keep[c.Source.Node] {
			continue
		}
		nc := Correlation{Value: c.Value, Source: c.Source}
		nc.Source.Node = remap[c.Source.Node]
		for _, u := range c.Uses {
			if keep[u.Node] {
				u.Node = remap[u.Node]
				nc.Uses = append(nc.Uses, u)
			}
		}
		if len(nc.Uses) > 0 {
			q.Correlations = append(q.Correlations, nc)
		}
	}
	for _, e := range p.Edges {
		if !keep[e.From] || !keep[e.To] {
			if keep[e.From] != keep[e.To] {
				q.dropped++
			}
			continue
		}
		q.Edges = append(q.Edges, Edge{From: int32(remap[e.From]), To: int32(remap[e.To]), Kind: e.Kind})
	}
	slices.SortStableFunc(q.Edges, func(a, b Edge) int { return cmp.Compare(a.To, b.To) })
	q.index()
	return q
}
