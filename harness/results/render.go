package results

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/reprise-dev/reprise/harness/replay"
)

// MaxReportRoutes keeps the tables readable; summary.json has every route.
const MaxReportRoutes = 30

// WriteText writes the summary as the terminal table reprise replay prints
// at the end of a run; dir is the run directory it names.
func WriteText(w io.Writer, s *replay.Summary, dir string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\tcount\terrors\tp50 ms\tp99 ms\tmax ms\t")
	for i, r := range s.Routes {
		if i == MaxReportRoutes {
			fmt.Fprintf(tw, "(%d more routes in summary.json)\t\t\t\t\t\t\n", len(s.Routes)-i)
			break
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t\n", r.Route, r.Count, r.Errors, ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.Max))
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%s\t%s\t%s\t\n", s.Requests.Sent, s.Errors.Total(), ms(s.Latency.P50), ms(s.Latency.P99), ms(s.Latency.Max))
	if err := tw.Flush(); err != nil {
		return err
	}
	rq, e, c := s.Requests, s.Errors, s.Correlations
	fmt.Fprintf(w, "\nrequests: %d planned, %d sent, %d late (>%s), %d dropped, %d unsupported, %d not rebuilt\n",
		rq.Planned, rq.Sent, rq.Late, replay.LateThreshold, rq.Dropped, rq.Unsupported, rq.Unbuilt)
	fmt.Fprintf(w, "errors: %d transport, %d 4xx, %d 5xx, %d gRPC, %d build; %d status class changes vs recording\n",
		e.Transport, e.Status4xx, e.Status5xx, e.GRPCNotOK, e.Build, e.StatusDiff)
	fmt.Fprintf(w, "generator lag: p50 %s ms, p99 %s ms\n", ms(s.Lag.P50), ms(s.Lag.P99))
	fmt.Fprintf(w, "correlations: %d found, %d applied, %d unresolved\n", c.Found, c.Applied, c.Unresolved)
	if s.Valid {
		fmt.Fprintln(w, "run: valid")
	} else {
		fmt.Fprintf(w, "run: INVALID: %s\n", s.Reason)
	}
	_, err := fmt.Fprintf(w, "run directory: %s\n", dir)
	return err
}

// WriteMarkdown writes the summary as GitHub-flavoured Markdown: a verdict
// line, the run's figures, and a per-route table with latency, service time
// and generator lag.
func WriteMarkdown(w io.Writer, s *replay.Summary, dir string) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "## Replay of `%s`\n\n", mdCode(s.Target))
	if s.Valid {
		b.WriteString("**Run: valid.**\n\n")
	} else {
		fmt.Fprintf(b, "**Run: INVALID:** %s\n\n", mdText(s.Reason))
	}
	fmt.Fprintf(b, "Timing `%s` at speed %s, started %s, %s ms. Run directory: `%s`.\n\n",
		mdCode(s.Mode), strconv.FormatFloat(s.Speed, 'g', -1, 64), s.StartedAt.UTC().Format("2006-01-02 15:04:05Z"),
		ms(s.DurationMS), mdCode(dir))

	rq, e, c := s.Requests, s.Errors, s.Correlations
	b.WriteString("| requests | count |\n| --- | ---: |\n")
	for _, row := range []struct {
		name string
		n    int
	}{{"planned", rq.Planned}, {"sent", rq.Sent}, {"late (>" + replay.LateThreshold.String() + ")", rq.Late},
		{"dropped", rq.Dropped}, {"unsupported", rq.Unsupported}, {"not rebuilt", rq.Unbuilt},
		{"errors: transport", e.Transport}, {"errors: 4xx", e.Status4xx}, {"errors: 5xx", e.Status5xx},
		{"errors: gRPC", e.GRPCNotOK}, {"errors: build", e.Build}, {"status class changed vs recording", e.StatusDiff},
		{"correlations found", c.Found}, {"correlations applied", c.Applied}, {"correlations unresolved", c.Unresolved},
		{"truncated bodies", s.TruncatedBodies}} {
		fmt.Fprintf(b, "| %s | %d |\n", row.name, row.n)
	}

	b.WriteString("\n| route | count | errors | p50 ms | p90 ms | p99 ms | max ms | service p99 ms | lag p99 ms |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for i, r := range s.Routes {
		if i == MaxReportRoutes {
			fmt.Fprintf(b, "| *%d more routes in summary.json* | | | | | | | | |\n", len(s.Routes)-i)
			break
		}
		fmt.Fprintf(b, "| `%s` | %d | %d | %s | %s | %s | %s | %s | %s |\n", mdCode(r.Route), r.Count, r.Errors,
			ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max), ms(r.Service.P99), ms(r.Lag.P99))
	}
	fmt.Fprintf(b, "| **total** | %d | %d | %s | %s | %s | %s | | %s |\n", rq.Sent, e.Total(),
		ms(s.Latency.P50), ms(s.Latency.P90), ms(s.Latency.P99), ms(s.Latency.Max), ms(s.Lag.P99))
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// mdCode makes s safe inside a table cell's code span: pipes would end the
// cell and backticks the span; newlines the row.
func mdCode(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ", "\r", " ").Replace(s)
}

// mdText escapes s for plain table or paragraph text.
func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "*", `\*`, "_", `\_`, "<", "&lt;").Replace(s)
}
