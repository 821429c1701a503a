package plan

import (
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/route"
)

// index interns values and locations so that each distinct string is held
// once, whatever the number of exchanges that carry it.
type index struct {
	rule   valueRule
	vals   map[string]uint32
	valStr []string
	locs   map[Location]uint32
	locArr []Location
}

func (ix *index) value(s string) uint32 {
	if id, ok := ix.vals[s]; ok {
		return id
	}
	// Tokens alias header strings and bodies; cloning keeps those from
	// being retained by the index.
	s = string([]byte(s))
	id := uint32(len(ix.valStr))
	ix.vals[s] = id
	ix.valStr = append(ix.valStr, s)
	return id
}

func (ix *index) valueBytes(b []byte) uint32 {
	if id, ok := ix.vals[string(b)]; ok {
		return id
	}
	return ix.value(string(b))
}

func (ix *index) location(l Location) uint32 {
	if id, ok := ix.locs[l]; ok {
		return id
	}
	id := uint32(len(ix.locArr))
	ix.locs[l] = id
	ix.locArr = append(ix.locArr, l)
	return id
}

// span is a half-open range of a flat occurrence slice.
type span struct{ from, to int32 }

// Builder accumulates exchanges one at a time, so a recording can be planned
// while it streams without holding bodies: only the node and its interned
// values are kept.
type Builder struct {
	cfg   config
	ix    index
	x     extractor
	nodes []Node
	req   []occ
	resp  []occ
	reqs  []span
	resps []span
	ids   map[uint64]int

	idScan  identScan
	idents  []Identity
	idSpans []span
	logins  map[string]bool // loginRoute by route template
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts ...Option) (*Builder, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	b := &Builder{
		cfg: cfg,
		ix: index{
			rule: cfg.rule,
			vals: make(map[string]uint32),
			locs: make(map[Location]uint32),
		},
		ids:    make(map[uint64]int),
		logins: make(map[string]bool),
	}
	b.x = extractor{ix: &b.ix, seen: make(map[uint64]struct{})}
	b.idScan = identScan{ix: &b.ix, known: make(map[string]string), seen: make(map[Identity]struct{})}
	return b, nil
}

// Add plans one exchange. Exchanges the filters reject are skipped. An
// exchange with a duplicate id or an end before its start is an error that
// names it.
func (b *Builder) Add(ex *rprpb.Exchange) error {
	if ex == nil {
		return fmt.Errorf("%w: nil exchange after %d", ErrBadExchange, len(b.nodes))
	}
	id := ex.GetId()
	if ex.GetEndNs() < ex.GetStartNs() {
		return fmt.Errorf("%w: exchange %d: end_ns %d before start_ns %d", ErrBadExchange, id, ex.GetEndNs(), ex.GetStartNs())
	}
	n := nodeOf(ex)
	if !b.cfg.filter.keep(n) {
		return nil
	}
	if _, dup := b.ids[id]; dup {
		return fmt.Errorf("%w: exchange %d: duplicate id", ErrBadExchange, id)
	}
	b.ids[id] = len(b.nodes)
	b.nodes = append(b.nodes, n)

	b.x.reset(ex.GetStartNs())
	login, ok := b.logins[n.Route]
	if !ok {
		login = loginRoute(n.Route)
		b.logins[n.Route] = login
	}
	b.idScan.reset(login)
	b.x.id = &b.idScan
	b.x.request(ex)
	b.x.id = nil
	from := int32(len(b.idents))
	b.idents = append(b.idents, b.idScan.out...)
	b.idSpans = append(b.idSpans, span{from, int32(len(b.idents))})
	from = int32(len(b.req))
	b.req = append(b.req, b.x.out...)
	b.reqs = append(b.reqs, span{from, int32(len(b.req))})

	b.x.reset(ex.GetEndNs())
	b.x.response(ex)
	from = int32(len(b.resp))
	b.resp = append(b.resp, b.x.out...)
	b.resps = append(b.resps, span{from, int32(len(b.resp))})
	return nil
}

// AddRecord plans the exchange in rec; other record kinds are skipped.
func (b *Builder) AddRecord(rec *rprpb.Record) error {
	if ex := rec.GetExchange(); ex != nil {
		return b.Add(ex)
	}
	return nil
}

// BuildSeq plans every record of seq (recording.Reader.All yields one). It
// stops at the first error, wrapped, or when ctx is done.
func BuildSeq(ctx context.Context, seq iter.Seq2[*rprpb.Record, error], opts ...Option) (*Plan, error) {
	b, err := NewBuilder(opts...)
	if err != nil {
		return nil, err
	}
	n := 0
	for rec, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("plan: reading record %d: %w", n, err)
		}
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := b.AddRecord(rec); err != nil {
			return nil, err
		}
	}
	return b.Plan(), ctx.Err()
}

func nodeOf(ex *rprpb.Exchange) Node {
	req := ex.GetRequest()
	r := req.GetPath()
	if g := ex.GetGrpc(); g != nil && g.GetFullMethod() != "" {
		r = g.GetFullMethod()
	} else {
		r = route.Template(r)
	}
	sess := ex.GetSession()
	if sess == "" {
		// Without a key each connection is its own session, the narrowest
		// guess that still keeps pipelined requests in order.
		sess = "conn-" + strconv.FormatUint(ex.GetConnectionId(), 10)
	}
	return Node{
		ID:         ex.GetId(),
		Session:    sess,
		Connection: ex.GetConnectionId(),
		Protocol:   protocolName(ex.GetProtocol()),
		Method:     req.GetMethod(),
		Route:      r,
		Start:      time.Duration(ex.GetStartNs()),
		End:        time.Duration(ex.GetEndNs()),
	}
}

func protocolName(p rprpb.Protocol) string {
	switch p {
	case rprpb.Protocol_PROTOCOL_HTTP1:
		return "http1"
	case rprpb.Protocol_PROTOCOL_H2C:
		return "h2c"
	case rprpb.Protocol_PROTOCOL_H2:
		return "h2"
	case rprpb.Protocol_PROTOCOL_GRPC:
		return "grpc"
	case rprpb.Protocol_PROTOCOL_WEBSOCKET:
		return "websocket"
	}
	return "unspecified"
}

// Plan computes the graph from everything added so far. The Builder may be
// used again afterwards; each call plans from scratch.
func (b *Builder) Plan() *Plan {
	order := make([]int, len(b.nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		if c := cmpDur(b.nodes[x].Start, b.nodes[y].Start); c != 0 {
			return c
		}
		return cmpU64(b.nodes[x].ID, b.nodes[y].ID)
	})
	p := &Plan{Nodes: make([]Node, len(order))}
	for k, raw := range order {
		p.Nodes[k] = b.nodes[raw]
	}
	if len(p.Nodes) > 0 {
		p.origin = p.Nodes[0].Start
	}
	orderPred := sessionPreds(p.Nodes)
	b.correlate(p, order, orderPred)
	b.identities(p, order)
	p.index()
	p.components()
	return p
}

// producer is where a value was first seen in a response.
type producer struct {
	at   int64
	node int32
	loc  uint32
}

// correlate applies the first-seen rule and builds all edges. A value is a
// correlation when some response carried it no later than any request did;
// its producer is the earliest such response, its uses every request that
// carries it (the producer's own request cannot: it would have been first).
func (b *Builder) correlate(p *Plan, order []int, orderPred []int32) {
	nv := len(b.ix.valStr)
	prod := make([]producer, nv)
	firstReq := make([]int64, nv)
	for v := range nv {
		prod[v] = producer{at: math.MaxInt64, node: -1}
		firstReq[v] = math.MaxInt64
	}
	for k, raw := range order {
		for _, o := range b.resp[b.resps[raw].from:b.resps[raw].to] {
			if o.at < prod[o.val].at {
				prod[o.val] = producer{at: o.at, node: int32(k), loc: o.loc}
			}
		}
		start := int64(p.Nodes[k].Start)
		for _, o := range b.req[b.reqs[raw].from:b.reqs[raw].to] {
			firstReq[o.val] = min(firstReq[o.val], start)
		}
	}

	corrOf := make([]int32, nv)
	for v := range corrOf {
		corrOf[v] = -1
	}
	var cur []Edge
	producers := make([][]int32, len(order)) // data producers each node transitively waits for
	for k, raw := range order {
		cur = cur[:0]
		node := p.Nodes[k]
		a := orderPred[k]
		if a >= 0 {
			cur = append(cur, Edge{From: int(a), To: k, Kind: Order, Think: node.Start - p.Nodes[a].End})
		}
		for _, o := range b.req[b.reqs[raw].from:b.reqs[raw].to] {
			src := prod[o.val]
			if src.node < 0 || int(src.node) == k || firstReq[o.val] < src.at {
				continue
			}
			c := corrOf[o.val]
			if c < 0 {
				c = int32(len(p.Correlations))
				corrOf[o.val] = c
				s := p.Nodes[src.node]
				p.Correlations = append(p.Correlations, Correlation{
					Value:  b.ix.valStr[o.val],
					Source: Ref{Node: int(src.node), Exchange: s.ID, At: b.ix.locArr[src.loc]},
				})
			}
			from := p.Nodes[src.node]
			ordered := int(src.node) < k && from.End <= node.Start
			corr := &p.Correlations[c]
			corr.Uses = append(corr.Uses, Ref{Node: k, Exchange: node.ID, At: b.ix.locArr[o.loc], Unordered: !ordered})
			// An edge that is also the ordering edge is marked as both.
			if ordered && (src.node == a || !implied(orderPred, producers, a, src.node)) {
				cur = addData(cur, int(src.node), k, node.Start-from.End, int(c))
			}
		}
		slices.SortFunc(cur, func(x, y Edge) int { return x.From - y.From })
		p.Edges = append(p.Edges, cur...)
		producers[k] = inherit(producers, a, cur)
	}
}

// How far implied looks: a bounded walk keeps planning linear; a miss only
// costs a redundant edge, never a wrong one.
const (
	maxChainWalk = 8
	maxProducers = 8
)

// implied reports whether an edge src -> k is already implied through k's
// ordering predecessor a: src is a or one of a's own ordering ancestors, or
// a data producer that a (or one of those ancestors) already waits for.
// Dropping it keeps a session's hundred requests from each carrying an edge
// back to the login; the value's uses are all still listed in the
// correlation.
func implied(orderPred []int32, producers [][]int32, a, src int32) bool {
	if a >= 0 && slices.Contains(producers[a], src) {
		return true
	}
	for i := 0; a >= 0 && i < maxChainWalk; i++ {
		if a == src {
			return true
		}
		a = orderPred[a]
	}
	return false
}

// inherit returns the data producers node k transitively waits for: those
// of its ordering predecessor a plus its own data edges' sources, sharing
// a's slice when nothing is new.
func inherit(producers [][]int32, a int32, edges []Edge) []int32 {
	var base []int32
	if a >= 0 {
		base = producers[a]
	}
	out := base
	for _, e := range edges {
		if e.Kind&Data == 0 || slices.Contains(out, int32(e.From)) {
			continue
		}
		if len(out) == len(base) {
			out = slices.Clone(base)
		}
		out = append(out, int32(e.From))
		if len(out) > maxProducers {
			out = out[1:]
		}
	}
	return out
}

func addData(cur []Edge, from, to int, think time.Duration, corr int) []Edge {
	for i := range cur {
		if cur[i].From == from {
			cur[i].Kind |= Data
			if !slices.Contains(cur[i].Correlations, corr) {
				cur[i].Correlations = append(cur[i].Correlations, corr)
			}
			return cur
		}
	}
	return append(cur, Edge{From: from, To: to, Kind: Data, Think: think, Correlations: []int{corr}})
}

// maxTieWalk bounds the search past zero-length exchanges that end exactly
// when a later-sorted one starts.
const maxTieWalk = 64

// sessionPreds finds, for each node, its ordering predecessor: the
// latest-ending exchange of the same session that ended before it started.
// Nodes must be in start order. Only that one edge is kept, not every
// earlier exchange, so the graph stays linear in size; the price is that an
// exchange which ended before B started but overlaps B's chosen predecessor
// is not waited for.
func sessionPreds(nodes []Node) []int32 {
	pred := make([]int32, len(nodes))
	bySession := make(map[string][]int32)
	for k := range nodes {
		pred[k] = -1
		bySession[nodes[k].Session] = append(bySession[nodes[k].Session], int32(k))
	}
	var byEnd []int32
	for _, members := range bySession {
		byEnd = append(byEnd[:0], members...)
		slices.SortFunc(byEnd, func(x, y int32) int {
			if c := cmpDur(nodes[x].End, nodes[y].End); c != 0 {
				return c
			}
			return int(x - y)
		})
		j := 0
		for _, k := range members {
			for j < len(byEnd) && nodes[byEnd[j]].End <= nodes[k].Start {
				j++
			}
			for i := j - 1; i >= 0 && i >= j-maxTieWalk; i-- {
				if byEnd[i] < k {
					pred[k] = byEnd[i]
					break
				}
			}
		}
	}
	return pred
}

// index builds the predecessor and successor offsets; Edges must be
// grouped by To in node order.
func (p *Plan) index() {
	n := len(p.Nodes)
	p.predOff = make([]int32, n+1)
	p.succOff = make([]int32, n+1)
	for _, e := range p.Edges {
		p.predOff[e.To+1]++
		p.succOff[e.From+1]++
	}
	for i := range n {
		p.predOff[i+1] += p.predOff[i]
		p.succOff[i+1] += p.succOff[i]
	}
	p.succ = make([]int32, len(p.Edges))
	fill := slices.Clone(p.succOff[:n])
	for i, e := range p.Edges {
		p.succ[fill[e.From]] = int32(i)
		fill[e.From]++
	}
}

func cmpDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// identities stores each node's identities in node order, leaving out the
// values the server issued: those are correlations, re-correlated live.
func (b *Builder) identities(p *Plan, order []int) {
	issued := make(map[string]struct{}, len(p.Correlations))
	for _, c := range p.Correlations {
		issued[c.Value] = struct{}{}
	}
	p.identOff = make([]int32, len(order)+1)
	for k, raw := range order {
		for _, id := range b.idents[b.idSpans[raw].from:b.idSpans[raw].to] {
			if _, ok := issued[id.Value]; !ok {
				p.ident = append(p.ident, id)
			}
		}
		p.identOff[k+1] = int32(len(p.ident))
	}
}
