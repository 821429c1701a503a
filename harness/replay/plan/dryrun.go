package plan

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// How much of a plan the text dry run lists; the JSON form has everything.
const (
	dryRunSessions     = 20
	dryRunCorrelations = 20
	dryRunRequests     = 50
	dryRunValueWidth   = 40
)

// WriteDryRun writes the human summary of the default schedule (causal,
// speed 1).
func (p *Plan) WriteDryRun(w io.Writer) error {
	s, _ := p.Schedule(Causal)
	return s.WriteDryRun(w)
}

// WriteDryRun writes the human summary: figures, the busiest sessions, the
// most used correlations and the first requests with their predecessors.
func (s *Schedule) WriteDryRun(w io.Writer) error {
	p := s.plan
	st := s.Stats()
	intended, _ := s.Simulate()
	bw := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	pf("Replay plan: %d requests in %d sessions (%d shard components, largest %d requests)\n",
		st.Requests, st.Sessions, st.Components, st.Largest)
	pf("Timing: %s at speed %s: expected duration %s, peak concurrency %d (recorded %s, peak %d)\n",
		st.Mode, strconv.FormatFloat(st.Speed, 'g', -1, 64), secs(st.ExpectedDuration), st.PeakConcurrency,
		secs(st.RecordedDuration), st.RecordedPeak)
	pf("Edges: %d (order %d, data %d, order+data %d; cross-session data %d; dropped by shard %d)\n",
		st.Edges.Total, st.Edges.Order, st.Edges.Data, st.Edges.Both, st.Edges.CrossSession, st.Edges.Dropped)
	pf("Correlations: %d values, %d uses (cross-session %d, unordered %d)", st.Correlations, st.Uses, st.CrossSession, st.Unordered)
	parts := make([]string, 0, len(st.BySource))
	for part, n := range st.BySource {
		parts = append(parts, fmt.Sprintf("%s %d", part, n))
	}
	slices.Sort(parts)
	if len(parts) > 0 {
		pf("; by source: %s", strings.Join(parts, ", "))
	}
	pf("\n")

	if a := p.Amplification(); a != nil {
		writeAmplification(pf, a)
	}

	sessions := sessionSummaries(p)
	slices.SortFunc(sessions, func(a, b SessionSummary) int {
		return cmp.Or(b.Requests-a.Requests, cmp.Compare(a.Session, b.Session))
	})
	pf("\nSessions (%d, busiest first):\n", len(sessions))
	for _, ss := range sessions[:min(len(sessions), dryRunSessions)] {
		pf("  %-24s %6d requests  %s .. %s\n", ss.Session, ss.Requests, offset(ss.First-p.origin), offset(ss.Last-p.origin))
	}
	if len(sessions) > dryRunSessions {
		pf("  ... %d more\n", len(sessions)-dryRunSessions)
	}

	corrs := make([]int, len(p.Correlations))
	for i := range corrs {
		corrs[i] = i
	}
	slices.SortStableFunc(corrs, func(a, b int) int { return len(p.Correlations[b].Uses) - len(p.Correlations[a].Uses) })
	pf("\nCorrelations (%d, most used first):\n", len(corrs))
	for _, ci := range corrs[:min(len(corrs), dryRunCorrelations)] {
		c := p.Correlations[ci]
		sess := map[string]struct{}{}
		for _, u := range c.Uses {
			sess[p.Call(u.Node).Session] = struct{}{}
		}
		pf("  %-*s from #%d %s, %d uses in %d sessions, e.g. #%d %s\n", dryRunValueWidth, shorten(c.Value),
			c.Source.Exchange, c.Source.At, len(c.Uses), len(sess), c.Uses[0].Exchange, c.Uses[0].At)
	}
	if len(corrs) > dryRunCorrelations {
		pf("  ... %d more\n", len(corrs)-dryRunCorrelations)
	}

	pf("\nRequests (first %d of %d; the JSON form lists all):\n", min(len(p.Nodes), dryRunRequests), len(p.Nodes))
	for i, n := range p.Nodes[:min(len(p.Nodes), dryRunRequests)] {
		c := p.Call(i)
		pf("  #%-6d %s  %-14s %s %s", n.ID, offset(intended[i]), c.Session, c.Method, c.Route)
		preds := p.Preds(i)
		for j, e := range preds {
			sep := ", "
			if j == 0 {
				sep = "  <- "
			}
			pf("%s#%d %s +%s", sep, p.Nodes[e.From].ID, e.Kind, millis(p.Think(e)))
		}
		pf("\n")
	}
	return bw.Flush()
}

// SessionSummary is one session of a plan.
type SessionSummary struct {
	Session  string        `json:"session"`
	Requests int           `json:"requests"`
	First    time.Duration `json:"first_ns"`
	Last     time.Duration `json:"last_ns"`
}

func sessionSummaries(p *Plan) []SessionSummary {
	idx := map[string]int{}
	var out []SessionSummary
	for k, n := range p.Nodes {
		c := p.Call(k)
		i, ok := idx[c.Session]
		if !ok {
			i = len(out)
			idx[c.Session] = i
			out = append(out, SessionSummary{Session: c.Session, First: n.Start})
		}
		out[i].Requests++
		out[i].Last = max(out[i].Last, n.Start)
	}
	return out
}

// DryRun is the JSON form of a dry run.
type DryRun struct {
	Stats Stats `json:"stats"`
	// Amplification is set for an amplified plan.
	Amplification *Amplification   `json:"amplification,omitempty"`
	Sessions      []SessionSummary `json:"sessions"`
	Requests      []PlannedRequest `json:"requests"`
	Correlations  []Correlation    `json:"correlations"`
}

// PlannedRequest is one node with its simulated intended time and its
// predecessors, named by exchange id.
type PlannedRequest struct {
	PlannedNode
	Intended time.Duration `json:"intended_ns"`
	Preds    []PlannedPred `json:"preds,omitempty"`
	// Rewrites are the clone's static rewrites (Plan.Rewrites).
	Rewrites []Rewrite `json:"rewrites,omitempty"`
}

// PlannedNode is a Node as the dry run writes it: the fields it shares
// with other nodes (Call) spelled out, in the order the plan file has
// always had.
type PlannedNode struct {
	ID         uint64        `json:"id"`
	Session    string        `json:"session"`
	Connection uint64        `json:"connection,omitempty"`
	Protocol   string        `json:"protocol"`
	Method     string        `json:"method"`
	Route      string        `json:"route"`
	Start      time.Duration `json:"start_ns"`
	End        time.Duration `json:"end_ns"`
	Clone      int           `json:"clone,omitempty"`
}

func plannedNode(n Node, c *Call) PlannedNode {
	return PlannedNode{ID: n.ID, Session: c.Session, Connection: n.Connection, Protocol: c.Protocol,
		Method: c.Method, Route: c.Route, Start: n.Start, End: n.End, Clone: c.Clone}
}

// PlannedPred is one incoming edge.
type PlannedPred struct {
	Exchange     uint64        `json:"exchange"`
	Kind         EdgeKind      `json:"kind"`
	Think        time.Duration `json:"think_ns"`
	Correlations []int         `json:"correlations,omitempty"`
}

// DryRun builds the JSON form of the dry run.
func (s *Schedule) DryRun() DryRun {
	p := s.plan
	intended, _ := s.Simulate()
	d := DryRun{Stats: s.Stats(), Amplification: p.Amplification(), Sessions: sessionSummaries(p), Correlations: p.Correlations}
	d.Requests = make([]PlannedRequest, len(p.Nodes))
	for i := range p.Nodes {
		d.Requests[i] = p.plannedRequest(i, intended[i])
	}
	if d.Correlations == nil {
		d.Correlations = []Correlation{}
	}
	return d
}

func (p *Plan) plannedRequest(i int, intended time.Duration) PlannedRequest {
	r := PlannedRequest{PlannedNode: plannedNode(p.Nodes[i], p.Call(i)), Intended: intended, Rewrites: p.Rewrites(i)}
	for _, e := range p.Preds(i) {
		r.Preds = append(r.Preds, PlannedPred{Exchange: p.Nodes[e.From].ID, Kind: e.Kind, Think: p.Think(e), Correlations: p.EdgeCorrelations(e)})
	}
	return r
}

// WriteDryRunJSON writes the whole plan under this schedule as one JSON
// document: DryRun indented as encoding/json does it, but streamed one
// planned request at a time, so that a plan of a million requests never
// exists in memory as one document nor as one encoded buffer.
func (s *Schedule) WriteDryRunJSON(w io.Writer) error {
	p := s.plan
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	put := func(parts ...string) {
		for _, x := range parts {
			if err == nil {
				_, err = bw.WriteString(x)
			}
		}
	}
	// value writes v as the encoder indents a field of the top-level
	// object (two spaces deep).
	value := func(field string, v any) {
		if err != nil {
			return
		}
		b, merr := json.MarshalIndent(v, "  ", "  ")
		if merr != nil {
			err = fmt.Errorf("field %s: %w", field, merr)
			return
		}
		_, err = bw.Write(b)
	}
	// array writes n elements, encoding element i with elem(i); nilSlice
	// stands for a nil slice, which encodes as null.
	array := func(field string, n int, nilSlice bool, elem func(i int) any) {
		switch {
		case nilSlice:
			put("null")
			return
		case n == 0:
			put("[]")
			return
		}
		put("[\n")
		for i := range n {
			if err != nil {
				return
			}
			b, merr := json.MarshalIndent(elem(i), "    ", "  ")
			if merr != nil {
				err = fmt.Errorf("%s[%d]: %w", field, i, merr)
				return
			}
			put("    ")
			if err == nil {
				_, err = bw.Write(b)
			}
			if i+1 < n {
				put(",")
			}
			put("\n")
		}
		put("  ]")
	}

	put("{\n", `  "stats": `)
	value("stats", s.Stats())
	if a := p.Amplification(); a != nil {
		put(",\n", `  "amplification": `)
		value("amplification", a)
	}
	sessions := sessionSummaries(p)
	put(",\n", `  "sessions": `)
	array("sessions", len(sessions), sessions == nil, func(i int) any { return sessions[i] })
	intended, _ := s.Simulate()
	put(",\n", `  "requests": `)
	array("requests", len(p.Nodes), false, func(i int) any { return p.plannedRequest(i, intended[i]) })
	put(",\n", `  "correlations": `)
	array("correlations", len(p.Correlations), false, func(i int) any { return p.Correlations[i] })
	put("\n}\n")
	if err != nil {
		return err
	}
	return bw.Flush()
}

// WriteDryRunJSON writes the JSON dry run of the default schedule.
func (p *Plan) WriteDryRunJSON(w io.Writer) error {
	s, _ := p.Schedule(Causal)
	return s.WriteDryRunJSON(w)
}

func shorten(v string) string {
	v = strconv.Quote(v)
	if len(v) > dryRunValueWidth {
		return v[:dryRunValueWidth-3] + "..."
	}
	return v
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

func offset(d time.Duration) string { return "+" + secs(d) }

func millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}

// How much of an amplification the text dry run lists.
const (
	dryRunIdentitySessions = 20
	dryRunIdentityValues   = 3
	dryRunClones           = 10
)

func writeAmplification(pf func(string, ...any), a *Amplification) {
	mode, sends := "isolated identities", "clone 1 sends"
	if a.Collide {
		mode, sends = "collide: clones share identities and entity keys", "every clone sends them unchanged"
	}
	distinct := map[string]struct{}{}
	for _, si := range a.Identities {
		for _, v := range si.Values {
			distinct[v] = struct{}{}
		}
	}
	clones := "clones"
	if a.Factor == 2 {
		clones = "clone"
	}
	pf("Amplification: x%d (original + %d %s; %s; clone offset %s): %d identities in %d sessions\n",
		a.Factor, a.Factor-1, clones, mode, secs(a.CloneOffset), len(distinct), len(a.Identities))
	pf("\nIdentities (%d sessions, most occurrences first; %s):\n", len(a.Identities), sends)
	for _, si := range a.Identities[:min(len(a.Identities), dryRunIdentitySessions)] {
		var vs []string
		for _, v := range si.Values[:min(len(si.Values), dryRunIdentityValues)] {
			if a.Collide {
				vs = append(vs, strconv.Quote(v))
			} else {
				vs = append(vs, strconv.Quote(v)+" -> "+strconv.Quote(CloneValue(v, 1, a.Factor)))
			}
		}
		if len(si.Values) > dryRunIdentityValues {
			vs = append(vs, fmt.Sprintf("... %d more", len(si.Values)-dryRunIdentityValues))
		}
		pf("  %-24s %6d occurrences  %s\n", si.Session, si.Occurrences, strings.Join(vs, ", "))
	}
	if len(a.Identities) > dryRunIdentitySessions {
		pf("  ... %d more\n", len(a.Identities)-dryRunIdentitySessions)
	}
	pf("\nClones (%d):\n", len(a.Clones))
	for _, c := range a.Clones[:min(len(a.Clones), dryRunClones)] {
		pf("  clone %-4d %6d requests in %d sessions, starts %s, %d rewrites in %d requests, %d shared correlations\n",
			c.Clone, c.Requests, c.Sessions, offset(c.Offset), c.Rewrites, c.Rewritten, c.SharedCorrelations)
	}
	if len(a.Clones) > dryRunClones {
		pf("  ... %d more\n", len(a.Clones)-dryRunClones)
	}
}
