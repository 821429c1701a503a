package plan

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/route"
)

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
	req   []reqOcc
	reqs  []span
	ids   map[uint64]struct{} // nil while ids only increase

	// Per interned value, what correlation needs of the responses and
	// requests added so far, kept as they arrive instead of every
	// occurrence: the earliest producer and the earliest request start.
	// Most values are never in a response, so producers are held apart,
	// prodOf[v] indexing prods (-1: none yet).
	prodOf   []int32
	prods    []producer
	firstReq []int64

	idScan  identScan
	idents  []Identity
	idSpans []span
	logins  map[string]bool     // loginRoute by route template
	calls   *calls              // one Call per session, protocol, method and route
	mootFn  func(v uint32) bool // produced, made once: the extractor's moot in responses

	pass   int // passSingle, or which of BuildTwoPass's passes
	cursor int // in the requests pass, how many nodes were matched
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
			seed: maphash.MakeSeed(),
			locs: make(map[Location]uint32),
		},
		logins: make(map[string]bool),
		calls:  newCalls(),
	}
	b.x = extractor{ix: &b.ix, seen: make(map[uint64]struct{})}
	b.mootFn = b.produced
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
	n, c := nodeOf(ex)
	if !b.cfg.filter.keep(n, &c) {
		return nil // its Call is not kept either: the plan holds its table
	}
	if b.pass == passRequests {
		// The first pass's node has its Call already.
		if b.cursor >= len(b.nodes) || b.nodes[b.cursor].ID != id {
			return fmt.Errorf("%w: exchange %d: not the exchange the first pass read at position %d (the recording changed between passes)", ErrBadExchange, id, b.cursor)
		}
		b.cursor++
		b.addRequest(ex, b.nodes[b.cursor-1])
		return nil
	}
	if b.duplicate(id) {
		return fmt.Errorf("%w: exchange %d: duplicate id", ErrBadExchange, id)
	}
	n.call = b.calls.of(c)
	b.nodes = append(b.nodes, n)
	if b.pass == passSingle {
		b.addRequest(ex, n)
	}
	b.addResponse(ex)
	return nil
}

// addRequest collects the request's values and identities.
func (b *Builder) addRequest(ex *rprpb.Exchange, n Node) {
	b.x.reset(ex.GetStartNs())
	route := b.calls.list[n.call].Route
	login, ok := b.logins[route]
	if !ok {
		login = loginRoute(route)
		b.logins[route] = login
	}
	b.idScan.reset(login)
	b.x.id = &b.idScan
	b.x.request(ex)
	b.x.id = nil
	from := int32(len(b.idents))
	b.idents = append(b.idents, b.idScan.out...)
	b.idSpans = append(b.idSpans, span{from, int32(len(b.idents))})
	from = int32(len(b.req))
	for _, o := range b.x.out {
		b.req = append(b.req, reqOcc{val: o.val, loc: o.loc})
	}
	b.reqs = append(b.reqs, span{from, int32(len(b.req))})
	b.grow()
	for _, o := range b.x.out {
		b.firstReq[o.val] = min(b.firstReq[o.val], ex.GetStartNs())
	}
}

// addResponse collects the values the last node's response issues.
func (b *Builder) addResponse(ex *rprpb.Exchange) {
	b.x.reset(ex.GetEndNs())
	b.x.moot = b.mootFn
	b.x.response(ex)
	b.x.moot = nil
	b.grow()
	raw := int32(len(b.nodes) - 1)
	for _, o := range b.x.out {
		p := producer{at: o.at, node: raw, loc: o.loc}
		switch i := b.prodOf[o.val]; {
		case i < 0:
			if o.at < math.MaxInt64 { // never visible: as if not produced
				b.prodOf[o.val] = int32(len(b.prods))
				b.prods = append(b.prods, p)
			}
		case b.earlier(o.at, raw, b.prods[i]):
			b.prods[i] = p
		}
	}
}

// produced reports whether value v, seen at b.x.at in the last node's
// response, was already issued by a response that stays its producer (an
// earlier one, by earlier): addResponse would let the occurrence go.
func (b *Builder) produced(v uint32) bool {
	if int(v) >= len(b.prodOf) || b.prodOf[v] < 0 {
		return false
	}
	return !b.earlier(b.x.at, int32(len(b.nodes)-1), b.prods[b.prodOf[v]])
}

// duplicate reports whether a node with this id was added, and notes it.
// While ids only increase (as recorders number them) the last one is
// enough; the first id out of that order builds the set of every id.
func (b *Builder) duplicate(id uint64) bool {
	if b.ids == nil {
		if len(b.nodes) == 0 || id > b.nodes[len(b.nodes)-1].ID {
			return false
		}
		b.ids = make(map[uint64]struct{}, len(b.nodes))
		for i := range b.nodes {
			b.ids[b.nodes[i].ID] = struct{}{}
		}
	}
	if _, dup := b.ids[id]; dup {
		return true
	}
	b.ids[id] = struct{}{}
	return false
}

// grow gives every interned value its correlation state.
func (b *Builder) grow() {
	for len(b.prodOf) < b.ix.count() {
		b.prodOf = append(b.prodOf, -1)
		b.firstReq = append(b.firstReq, math.MaxInt64)
	}
}

// earlier reports whether a response occurrence at time at in node raw
// comes before the producer p: earlier in time, or at the same time in a
// node that sorts first (start, then id). Within one node the first
// occurrence stays, as when the occurrences are walked in plan order.
func (b *Builder) earlier(at int64, raw int32, p producer) bool {
	if at != p.at {
		return at < p.at
	}
	x, y := &b.nodes[raw], &b.nodes[p.node]
	if c := cmpDur(x.Start, y.Start); c != 0 {
		return c < 0
	}
	return x.ID < y.ID
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
	if err := b.addSeq(ctx, seq); err != nil {
		return nil, err
	}
	return b.plan(true), ctx.Err()
}

// BuildTwoPass makes the plan BuildSeq makes from one of the identical
// sequences open returns, reading two of them: every response first, then
// every request. Knowing all the values responses issue before any request
// is read, it keeps of the requests only what can be a correlation, where
// a single pass must keep every distinct request value (ids, paths, request
// ids: most of a large recording's planner memory) in case a later-read
// response issues it. Each sequence should release what it opened when it
// ends. A second sequence that differs from the first is an error.
func BuildTwoPass(ctx context.Context, open func() (iter.Seq2[*rprpb.Record, error], error), opts ...Option) (*Plan, error) {
	b, err := NewBuilder(opts...)
	if err != nil {
		return nil, err
	}
	for _, pass := range []int{passResponses, passRequests} {
		b.pass = pass
		b.ix.frozen = pass == passRequests
		seq, err := open()
		if err != nil {
			return nil, fmt.Errorf("plan: pass %d: %w", pass, err)
		}
		if err := b.addSeq(ctx, seq); err != nil {
			return nil, fmt.Errorf("plan: pass %d: %w", pass, err)
		}
	}
	if b.cursor != len(b.nodes) {
		return nil, fmt.Errorf("plan: pass 2: %w: %d exchanges, the first pass read %d (the recording changed between passes)", ErrBadExchange, b.cursor, len(b.nodes))
	}
	b.pass, b.ix.frozen = passSingle, false
	return b.plan(true), ctx.Err()
}

// The Builder's passes: a single one (Add), or BuildTwoPass's two.
const (
	passSingle = iota
	passResponses
	passRequests
)

func (b *Builder) addSeq(ctx context.Context, seq iter.Seq2[*rprpb.Record, error]) error {
	n := 0
	for rec, err := range seq {
		if err != nil {
			return fmt.Errorf("plan: reading record %d: %w", n, err)
		}
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := b.AddRecord(rec); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// nodeOf is the node of ex and its Call, which the node does not index
// yet.
func nodeOf(ex *rprpb.Exchange) (Node, Call) {
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
		Connection: ex.GetConnectionId(),
		Start:      time.Duration(ex.GetStartNs()),
		End:        time.Duration(ex.GetEndNs()),
	}, Call{Session: sess, Protocol: protocolName(ex.GetProtocol()), Method: req.GetMethod(), Route: r}
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
func (b *Builder) Plan() *Plan { return b.plan(false) }

// plan plans; with last set the Builder is done (BuildSeq's, BuildTwoPass's)
// and what planning no longer needs is let go as soon as it is copied, so
// that the plan and the builder are not both whole at the peak.
func (b *Builder) plan(last bool) *Plan {
	order := make([]int32, len(b.nodes))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		if c := cmpDur(b.nodes[x].Start, b.nodes[y].Start); c != 0 {
			return c
		}
		return cmpU64(b.nodes[x].ID, b.nodes[y].ID)
	})
	p := &Plan{calls: slices.Clip(b.calls.list)}
	if last {
		// The builder's nodes become the plan's, put in start order where
		// they are: a copy would hold every node twice at the peak.
		p.Nodes = permute(slices.Clip(b.nodes), order)
		b.nodes, b.ids, b.calls, b.logins = nil, nil, nil, nil
		b.ix.table, b.ix.locs = nil, nil // arena, offs and locArr name the correlations
		b.x, b.idScan = extractor{}, identScan{}
	} else {
		p.Nodes = make([]Node, len(order))
		for k, raw := range order {
			p.Nodes[k] = b.nodes[raw]
		}
	}
	if len(p.Nodes) > 0 {
		p.origin = p.Nodes[0].Start
	}
	orderPred := sessionPreds(p.Nodes, p.calls)
	b.correlate(p, order, orderPred)
	if last {
		b.req, b.reqs = nil, nil // correlate was their last use
	}
	b.identities(p, order)
	p.index()
	p.components()
	return p
}

// permute reorders nodes in place so that nodes[k] is the node that was at
// order[k], following each cycle of the permutation once.
func permute(nodes []Node, order []int32) []Node {
	done := make([]uint64, (len(nodes)+63)/64)
	for i := range nodes {
		if done[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		tmp := nodes[i]
		for j := i; ; {
			done[j/64] |= 1 << (j % 64)
			src := int(order[j])
			if src == i {
				nodes[j] = tmp
				break
			}
			nodes[j] = nodes[src]
			j = src
		}
	}
	return nodes
}

// producer is where a value was first seen in a response; node is the
// index in Builder.nodes (added order) while building, in Plan.Nodes
// (start order) while correlating.
type producer struct {
	at   int64
	node int32
	loc  uint32
}

// correlate applies the first-seen rule and builds all edges. A value is a
// correlation when some response carried it no later than any request did;
// its producer is the earliest such response, its uses every request that
// carries it (the producer's own request cannot: it would have been first).
func (b *Builder) correlate(p *Plan, order []int32, orderPred []int32) {
	nv := b.ix.count()
	rank := make([]int32, len(order)) // plan index by added index
	for k, raw := range order {
		rank[raw] = int32(k)
	}
	none := producer{at: math.MaxInt64, node: -1}
	prod := make([]producer, len(b.prods))
	for i, p := range b.prods {
		prod[i] = p
		prod[i].node = rank[p.node]
	}
	firstReq := b.firstReq

	corrOf := make([]int32, nv)
	for v := range corrOf {
		corrOf[v] = -1
	}
	var cur []Edge
	// Most nodes have one ordering edge and few data edges: room for one
	// each spares the doublings of append, which at the peak of planning
	// held the edges one and a half times over.
	p.Edges = make([]Edge, 0, len(order))
	producers := waits{of: make([]int32, len(order)), sets: [][]int32{nil}}
	for k, raw := range order {
		cur = cur[:0]
		node := p.Nodes[k]
		a := orderPred[k]
		if a >= 0 {
			cur = append(cur, Edge{From: a, To: int32(k), Kind: Order})
		}
		for _, o := range b.req[b.reqs[raw].from:b.reqs[raw].to] {
			src := none
			if i := b.prodOf[o.val]; i >= 0 {
				src = prod[i]
			}
			if src.node < 0 || int(src.node) == k || firstReq[o.val] < src.at {
				continue
			}
			c := corrOf[o.val]
			if c < 0 {
				c = int32(len(p.Correlations))
				corrOf[o.val] = c
				s := p.Nodes[src.node]
				p.Correlations = append(p.Correlations, Correlation{
					Value:  b.ix.str(o.val),
					Source: Ref{Node: int(src.node), Exchange: s.ID, At: b.ix.locArr[src.loc]},
				})
			}
			from := p.Nodes[src.node]
			ordered := int(src.node) < k && from.End <= node.Start
			corr := &p.Correlations[c]
			corr.Uses = append(corr.Uses, Ref{Node: k, Exchange: node.ID, At: b.ix.locArr[o.loc], Unordered: !ordered})
			// An edge that is also the ordering edge is marked as both.
			if ordered && (src.node == a || !implied(orderPred, &producers, a, src.node)) {
				cur = addData(cur, src.node, int32(k))
			}
		}
		slices.SortFunc(cur, func(x, y Edge) int { return cmp.Compare(x.From, y.From) })
		p.Edges = append(p.Edges, cur...)
		producers.inherit(k, a, cur)
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
func implied(orderPred []int32, producers *waits, a, src int32) bool {
	if a >= 0 && slices.Contains(producers.set(int(a)), src) {
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

// waits holds the data producers each node transitively waits for. Most
// nodes wait for the same ones as their ordering predecessor, so a node
// holds the index of a set (4 bytes) and only a node that adds a producer
// makes a new set; at a million nodes a slice each would be 24 MB.
type waits struct {
	of   []int32   // set index per node
	sets [][]int32 // sets[0] is empty
}

func (w *waits) set(node int) []int32 { return w.sets[w.of[node]] }

// inherit gives node k the producers of its ordering predecessor a plus
// its own data edges' sources, sharing a's set when nothing is new.
func (w *waits) inherit(k int, a int32, edges []Edge) {
	var at int32
	if a >= 0 {
		at = w.of[a]
	}
	out, copied := w.sets[at], false
	for _, e := range edges {
		if e.Kind&Data == 0 || slices.Contains(out, int32(e.From)) {
			continue
		}
		if !copied { // a's set is shared: never append to it
			out, copied = slices.Clone(out), true
		}
		out = append(out, int32(e.From))
		if len(out) > maxProducers {
			out = out[1:]
		}
	}
	if copied {
		at = int32(len(w.sets))
		w.sets = append(w.sets, out)
	}
	w.of[k] = at
}

// addData marks the edge from -> to as data flow, adding it if needed.
func addData(cur []Edge, from, to int32) []Edge {
	for i := range cur {
		if cur[i].From == from {
			cur[i].Kind |= Data
			return cur
		}
	}
	return append(cur, Edge{From: from, To: to, Kind: Data})
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
func sessionPreds(nodes []Node, calls []Call) []int32 {
	pred := make([]int32, len(nodes))
	bySession := make(map[string][]int32)
	for k := range nodes {
		pred[k] = -1
		s := calls[nodes[k].call].Session
		bySession[s] = append(bySession[s], int32(k))
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
	// Each node's range is filled from its end, the edges taken last to
	// first, so that succOff[k+1] moves down to node k's start; one shift
	// puts the offsets back. A cursor per node (a copy of succOff) was 4
	// bytes a node more at planning's peak.
	p.succ = make([]int32, len(p.Edges))
	for i := len(p.Edges) - 1; i >= 0; i-- {
		from := p.Edges[i].From
		p.succOff[from+1]--
		p.succ[p.succOff[from+1]] = int32(i)
	}
	copy(p.succOff[:n], p.succOff[1:])
	p.succOff[n] = int32(len(p.Edges))
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
func (b *Builder) identities(p *Plan, order []int32) {
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
	if len(p.ident) == 0 {
		p.identOff = nil // 4 bytes a node, all saying "none"
	}
}
