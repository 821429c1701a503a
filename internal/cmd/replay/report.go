package replay

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/reprise-dev/reprise/harness/replay"
)

// maxReportRoutes keeps the table readable; summary.json has every route.
const maxReportRoutes = 30

func writeReport(w io.Writer, s *replay.Summary, dir string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "route\tcount\terrors\tp50 ms\tp99 ms\tmax ms\t")
	for i, r := range s.Routes {
		if i == maxReportRoutes {
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
	fmt.Fprintf(w, "\nrequests: %d planned, %d sent, %d late (>%s), %d dropped, %d unsupported\n",
		rq.Planned, rq.Sent, rq.Late, replay.LateThreshold, rq.Dropped, rq.Unsupported)
	fmt.Fprintf(w, "errors: %d transport, %d 4xx, %d 5xx, %d gRPC; %d status class changes vs recording\n",
		e.Transport, e.Status4xx, e.Status5xx, e.GRPCNotOK, e.StatusDiff)
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

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
