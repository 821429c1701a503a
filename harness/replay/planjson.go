package replay

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// writePlanJSON writes plan.json: the same bytes as
// plan.Schedule.WriteDryRunJSON, but streamed one planned request at a
// time, so that a plan of a million requests never exists in memory as
// one document (plan.DryRun) nor as one encoded buffer.
func writePlanJSON(w io.Writer, s *plan.Schedule) error {
	p := s.Plan()
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
	array("requests", len(p.Nodes), false, func(i int) any {
		r := plan.PlannedRequest{Node: p.Nodes[i], Intended: intended[i], Rewrites: p.Rewrites(i)}
		for _, e := range p.Preds(i) {
			r.Preds = append(r.Preds, plan.PlannedPred{Exchange: p.Nodes[e.From].ID, Kind: e.Kind, Think: e.Think,
				Correlations: e.Correlations})
		}
		return r
	})
	put(",\n", `  "correlations": `)
	array("correlations", len(p.Correlations), false, func(i int) any { return p.Correlations[i] })
	put("\n}\n")
	if err != nil {
		return err
	}
	return bw.Flush()
}

// sessionSummaries are plan.DryRun's sessions, in order of first request.
func sessionSummaries(p *plan.Plan) []plan.SessionSummary {
	idx := map[string]int{}
	var out []plan.SessionSummary
	for _, n := range p.Nodes {
		i, ok := idx[n.Session]
		if !ok {
			i = len(out)
			idx[n.Session] = i
			out = append(out, plan.SessionSummary{Session: n.Session, First: n.Start})
		}
		out[i].Requests++
		out[i].Last = max(out[i].Last, n.Start)
	}
	return out
}
