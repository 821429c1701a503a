package plan

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Sentinel errors.
var (
	// ErrBadExchange marks an exchange the planner cannot place; the wrapping
	// error names the exchange and the field.
	ErrBadExchange = errors.New("plan: bad exchange")
	// ErrBadOption marks an invalid option value.
	ErrBadOption = errors.New("plan: bad option")
)

// Node is one exchange of the recording, as the planner sees it.
//
// What many nodes share (session, protocol, method, route, clone) sits in
// one Call of the plan's (Plan.Call), so that a node is 40 bytes rather than
// the 104 of its own strings: at a million exchanges the plan's nodes are
// the largest thing a replay keeps in memory. A node holds its Call's index,
// not a pointer: nodes without pointers are memory the garbage collector
// never scans, where a pointer each made every GC cycle walk all of them
// (at a million exchanges, 40 MB a cycle), and a long mark phase is lag
// for the requests due meanwhile. A node that needs another session (an
// amplified clone) has another Call.
type Node struct {
	// ID is the exchange id in the recording.
	ID         uint64 `json:"id"`
	Connection uint64 `json:"connection,omitempty"`
	// Start and End are recorded offsets from the recording's clock anchor.
	Start time.Duration `json:"start_ns"`
	End   time.Duration `json:"end_ns"`
	call  int32         // index in the plan's calls
}

// Call is what a node shares with the other nodes of its session that
// call the same route: it is immutable once in a plan's table.
type Call struct {
	Session  string `json:"session"`
	Protocol string `json:"protocol"`
	Method   string `json:"method"`
	// Route is the route template ("/v1/items/{id}/buy") or gRPC full method.
	Route string `json:"route"`
	// Clone is 0 for a recorded exchange and k (1..N-1) for its k-th copy
	// in a plan amplified N times; a clone keeps the original's ID and its
	// Session is the original's + "~" + k (see Amplify).
	Clone int `json:"clone,omitempty"`
}

// calls interns Calls, so that nodes with equal ones share one.
type calls struct {
	list []Call
	ids  map[Call]int32
}

func newCalls() *calls { return &calls{ids: make(map[Call]int32)} }

// of returns the index of c's shared copy.
func (cs *calls) of(c Call) int32 {
	if i, ok := cs.ids[c]; ok {
		return i
	}
	i := int32(len(cs.list))
	cs.list = append(cs.list, c)
	cs.ids[c] = i
	return i
}

// Call returns node i's Call: its session, protocol, method, route and
// clone number. It is shared with other nodes; do not modify.
func (p *Plan) Call(i int) *Call { return &p.calls[p.Nodes[i].call] }

// Service is the recorded service time, what the simulation assumes the
// target takes to answer on replay.
func (n Node) Service() time.Duration { return n.End - n.Start }

// EdgeKind is a bit set: an edge can be both ordering and data flow.
type EdgeKind uint8

// Edge kinds.
const (
	// Order: same session, and To started after From ended.
	Order EdgeKind = 1 << iota
	// Data: To sends a value first seen in From's response.
	Data
)

func (k EdgeKind) String() string {
	switch k {
	case Order:
		return "order"
	case Data:
		return "data"
	case Order | Data:
		return "order+data"
	}
	return "none"
}

// MarshalText writes the kind by name in JSON.
func (k EdgeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind written by MarshalText.
func (k *EdgeKind) UnmarshalText(b []byte) error {
	for _, c := range []EdgeKind{Order, Data, Order | Data} {
		if c.String() == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("%w: edge kind %q", ErrBadOption, b)
}

// Edge says To may not be sent before From is done. It is 12 bytes, as a
// plan has about one per node: what can be derived is not kept on it. The
// recorded think time is Plan.Think, and the correlations a data edge
// carries are Plan.EdgeCorrelations.
type Edge struct {
	// From and To are node indexes in Plan.Nodes.
	From int32    `json:"from"`
	To   int32    `json:"to"`
	Kind EdgeKind `json:"kind"`
}

// Think is the recorded gap between e.From's end and e.To's start: what
// the recording's client waited before it sent e.To. It is never
// negative, as an edge only joins an exchange to one that started after
// it ended (an amplified clone's nodes are shifted together, so the gap
// holds within a clone and from an original to its clone's consumer).
func (p *Plan) Think(e Edge) time.Duration {
	return max(0, p.Nodes[e.To].Start-p.Nodes[e.From].End)
}

// Ref points at a value inside one exchange.
type Ref struct {
	Node     int      `json:"node"`
	Exchange uint64   `json:"exchange"`
	At       Location `json:"at"`
	// Unordered marks a use whose producer had not finished when the
	// consumer started (a value read from a stream still open): the executor
	// must substitute it, but no edge waits for the producer.
	Unordered bool `json:"unordered,omitempty"`
}

// Correlation is a value first seen in one response and sent again later.
type Correlation struct {
	// Value is the recorded value; the executor swaps it for the one the
	// target issues on replay. Binary gRPC bytes are kept raw.
	Value  string `json:"value"`
	Source Ref    `json:"source"`
	Uses   []Ref  `json:"uses"`
}

// Plan is the dependency graph of a recording. It is immutable once built
// and safe for concurrent readers.
type Plan struct {
	// Nodes in recorded start order (ties by exchange id); an edge always
	// points from a lower index to a higher one, so index order is a
	// topological order.
	Nodes []Node
	// Edges sorted by To, then From.
	Edges        []Edge
	Correlations []Correlation

	calls []Call // the nodes' Calls, by Node.call

	predOff []int32 // Edges[predOff[i]:predOff[i+1]] are the edges into node i
	succOff []int32 // succ[succOff[i]:succOff[i+1]] index the edges out of node i
	succ    []int32
	comp    []int32       // shard unit (connected component) of each node
	compKey []string      // name of each shard unit, hashed to pick its shard
	dropped int           // edges lost to sharding
	origin  time.Duration // recorded offset that replay time 0 stands for
	whole   string        // a shard's: the Fingerprint of the plan it was cut from

	ident    []Identity // identities of the built plan's nodes, grouped by node
	identOff []int32    // ident[identOff[b]:identOff[b+1]] belong to built node b
	baseOf   []int32    // built node each node copies; nil means itself
	amp      *amp       // nil unless amplified

	// usesAt lists, per node, the correlations it sends a value of after
	// their producer was done; made on first use by EdgeCorrelations.
	usesOnce sync.Once
	usesOff  []int32 // usesAt[usesOff[i]:usesOff[i+1]] are node i's
	usesAt   []int32
}

// EdgeCorrelations returns the indexes in Correlations of the values a
// data edge carries: those its From issued and its To sends, in index
// order. An edge is a data edge exactly when there are some, so an order
// edge has none.
func (p *Plan) EdgeCorrelations(e Edge) []int {
	if e.Kind&Data == 0 {
		return nil
	}
	p.usesOnce.Do(p.indexUses)
	var out []int
	for _, c := range p.usesAt[p.usesOff[e.To]:p.usesOff[e.To+1]] {
		// A node's list is in index order, a correlation it uses at two
		// places once or next to itself.
		if p.Correlations[c].Source.Node == int(e.From) && (len(out) == 0 || out[len(out)-1] != int(c)) {
			out = append(out, int(c))
		}
	}
	return out
}

// indexUses lays out usesAt: the ordered uses of every correlation, by
// node, in correlation order.
func (p *Plan) indexUses() {
	n := len(p.Nodes)
	p.usesOff = make([]int32, n+1)
	each := func(fn func(node, corr int)) {
		for ci, c := range p.Correlations {
			last := -1
			for _, u := range c.Uses {
				if !u.Unordered && u.Node != last {
					fn(u.Node, ci)
					last = u.Node
				}
			}
		}
	}
	each(func(node, _ int) { p.usesOff[node+1]++ })
	for i := range n {
		p.usesOff[i+1] += p.usesOff[i]
	}
	p.usesAt = make([]int32, p.usesOff[n])
	next := slices.Clone(p.usesOff[:n])
	each(func(node, corr int) {
		p.usesAt[next[node]] = int32(corr)
		next[node]++
	})
}

// Preds returns the edges into node i. The slice is shared; do not modify.
func (p *Plan) Preds(i int) []Edge { return p.Edges[p.predOff[i]:p.predOff[i+1]] }

// Succs calls fn with every edge out of node i.
func (p *Plan) Succs(i int, fn func(Edge)) {
	for _, e := range p.succ[p.succOff[i]:p.succOff[i+1]] {
		fn(p.Edges[e])
	}
}

// Option configures Build.
type Option func(*config) error

type config struct {
	rule   valueRule
	filter filter
}

func defaultConfig() config {
	return config{rule: valueRule{minLen: DefaultMinValueLen, minDigits: DefaultMinNumberDigits, maxLen: DefaultMaxValueLen}}
}

// MinValueLen sets the shortest string that can be a correlated value.
func MinValueLen(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: min value length %d < 1", ErrBadOption, n)
		}
		c.rule.minLen = n
		return nil
	}
}

// MinNumberDigits sets the fewest digits an integer needs to be a value.
func MinNumberDigits(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: min number digits %d < 1", ErrBadOption, n)
		}
		c.rule.minDigits = n
		return nil
	}
}

// MaxValueLen sets the longest value kept in the index.
func MaxValueLen(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max value length %d < 1", ErrBadOption, n)
		}
		c.rule.maxLen = n
		return nil
	}
}

// Build plans a slice of exchanges (in any order).
func Build(exs []*rprpb.Exchange, opts ...Option) (*Plan, error) {
	b, err := NewBuilder(opts...)
	if err != nil {
		return nil, err
	}
	for _, ex := range exs {
		if err := b.Add(ex); err != nil {
			return nil, err
		}
	}
	return b.Plan(), nil
}
