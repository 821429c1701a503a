package results

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay"
)

func sampleSummary() replay.Summary {
	return replay.Summary{
		Target: "http://127.0.0.1:8080", Mode: "causal", Speed: 4,
		StartedAt: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC), DurationMS: 812.44,
		Requests:     replay.RequestCounts{Planned: 1600, Sent: 1590, Late: 3, Dropped: 2, Unsupported: 8},
		Errors:       replay.ErrorCounts{Transport: 1, Status4xx: 6, Status5xx: 2, StatusDiff: 2},
		Latency:      replay.Quantiles{P50: 1.23, P90: 3.1, P99: 9.87, Max: 30.2},
		Lag:          replay.Quantiles{P50: 0.1, P90: 0.4, P99: 1.9, Max: 4},
		Correlations: replay.CorrelationCounts{Found: 30, Applied: 1570, Unresolved: 1},
		Routes: []replay.RouteSummary{
			{Route: "/v1/items/{id}", Count: 1200, Errors: 6,
				Latency: replay.Quantiles{P50: 1, P90: 2, P99: 5, Max: 9},
				Service: replay.Quantiles{P50: 0.9, P90: 1.9, P99: 4.8, Max: 8.7},
				Lag:     replay.Quantiles{P50: 0.1, P90: 0.2, P99: 0.9, Max: 2}},
			{Route: "/v1/search|`odd`", Count: 390, Errors: 3,
				Latency: replay.Quantiles{P50: 2.5, P90: 7, P99: 12, Max: 30.2}},
		},
		Valid: true,
	}
}

func TestWriteTextGolden(t *testing.T) {
	s := sampleSummary()
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, &s, "runs/replay-1"))
	golden(t, "report.txt", b.Bytes())
}

func TestWriteMarkdownGolden(t *testing.T) {
	s := sampleSummary()
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, &s, "runs/replay-1"))
	golden(t, "report.md", b.Bytes())
}

// An invalid run with more routes than a table shows: both renderings say
// why the run is invalid and point at summary.json for the rest.
func TestReportsOfAnInvalidRunWithManyRoutes(t *testing.T) {
	s := sampleSummary()
	s.Routes = nil
	for i := range MaxReportRoutes + 5 {
		s.Routes = append(s.Routes, replay.RouteSummary{Route: fmt.Sprintf("/r/%02d", i), Count: 100 - i})
	}
	s.Valid, s.Reason = false, "generator lag p99 9ms > 5ms: the generator fell behind"
	var txt, md bytes.Buffer
	require.NoError(t, WriteText(&txt, &s, "d"))
	require.NoError(t, WriteMarkdown(&md, &s, "d"))
	golden(t, "report-invalid.txt", txt.Bytes())
	golden(t, "report-invalid.md", md.Bytes())
}
