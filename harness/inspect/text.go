package inspect

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// SparkWidth is the most columns the text sparkline uses.
const SparkWidth = 60

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	return nil
}

// WriteText writes r as an aligned report meant to be read at a glance.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := &printer{w: tw}
	p.overview(r)
	p.rate(&r.Rate)
	p.routes(r)
	p.entities(&r.Entities)
	p.bodies("Largest request bodies", r.LargestRequests)
	p.bodies("Largest response bodies", r.LargestResponses)
	p.errors(&r.Errors)
	if p.err != nil {
		return fmt.Errorf("inspect: %w", p.err)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	return nil
}

// printer keeps the first write error so that the sections read as prose.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) overview(r *Report) {
	if r.File != "" {
		p.f("File:\t%s\n", r.File)
	}
	if r.Recorder != "" || r.Created != "" {
		p.f("Recorder:\t%s\n", strings.TrimSpace(orDash(r.Recorder)+" (created "+orDash(r.Created)+")"))
	}
	span := seconds(r.DurationSeconds)
	if r.Start != "" {
		span = fmt.Sprintf("%s, %s → %s", span, r.Start, r.End)
	}
	p.f("Duration:\t%s\n", span)
	p.f("Complete:\t%s\n", completeness(r))
	p.f("Records:\t%d (%d exchanges, %d of other kinds)\n", r.Records, r.Exchanges, r.OtherRecords)
	p.f("Sessions:\t%d (%d exchanges without a session)\n", r.Sessions, r.WithoutSession)
	p.f("Bytes:\trequests %s, responses %s\n", bytesize(r.RequestBytes), bytesize(r.ResponseBytes))
	p.f("Protocols:\t%s\n", joinCounts(r.Protocols))
	p.f("Methods:\t%s\n", joinCounts(r.Methods))
	p.f("HTTP status:\t%s\n", joinCounts(r.Statuses))
	if len(r.GRPCStatuses) > 0 {
		p.f("gRPC status:\t%s\n", joinCounts(r.GRPCStatuses))
	}
	p.f("Errors:\t%d exchanges carry an error\n", r.Errors.Count)
}

func completeness(r *Report) string {
	if r.Complete {
		return "yes"
	}
	if len(r.Damage) == 0 {
		return "no"
	}
	d := r.Damage[0]
	what := "corrupt"
	if d.Truncated {
		what = "truncated"
	}
	more := ""
	if len(r.Damage) > 1 {
		more = fmt.Sprintf(" (+%d more damaged places)", len(r.Damage)-1)
	}
	return fmt.Sprintf("NO: %s at byte %d after %d records: %s%s", what, d.Offset, d.Records, d.Reason, more)
}

func (p *printer) rate(r *Rate) {
	if len(r.Points) == 0 {
		return
	}
	line, perCol := sparkline(r.Points, SparkWidth)
	p.f("\nRate (starts/s, %s per column):\n", seconds(float64(perCol*r.BucketSeconds)))
	p.f("  %s\n", line)
	p.f("  min %s  mean %s  max %s\n", num(r.Min), num(r.Mean), num(r.Max))
}

// sparkline averages points into at most width columns and draws each as
// one of eight levels of the largest; an empty column is a space.
func sparkline(points []float64, width int) (string, int64) {
	per := (len(points) + width - 1) / width
	cols := make([]float64, 0, width)
	for i := 0; i < len(points); i += per {
		end := min(i+per, len(points))
		var sum float64
		for _, v := range points[i:end] {
			sum += v
		}
		cols = append(cols, sum/float64(end-i))
	}
	var top float64
	for _, v := range cols {
		top = max(top, v)
	}
	var b strings.Builder
	for _, v := range cols {
		if v <= 0 || top <= 0 {
			b.WriteByte(' ')
			continue
		}
		level := int(v / top * float64(len(sparkLevels)-1))
		b.WriteRune(sparkLevels[min(max(level, 0), len(sparkLevels)-1)])
	}
	return b.String(), int64(per)
}

func (p *printer) routes(r *Report) {
	if len(r.Routes) == 0 {
		return
	}
	p.f("\nRoutes (top %d of %d):\n", len(r.Routes), r.DistinctRoutes)
	p.f("  COUNT\t4XX\t5XX\tERR\tMEAN\tMAX\tROUTE\n")
	for _, rt := range r.Routes {
		p.f("  %d\t%d\t%d\t%d\t%s\t%s\t%s\n", rt.Count, rt.Status4xx, rt.Status5xx, rt.Errors,
			millis(rt.MeanMs), millis(rt.MaxMs), oneLine(strings.TrimSpace(rt.Method+" "+rt.Route)))
	}
}

func (p *printer) entities(e *Entities) {
	if e.Distinct == 0 {
		return
	}
	p.f("\nEntities by count (top %d of %d):\n", len(e.ByCount), e.Distinct)
	p.f("  COUNT\tPEAK\tKEY\n")
	for _, s := range e.ByCount {
		p.f("  %d\t%d\t%s\n", s.Count, s.Peak, oneLine(s.Key))
	}
	if len(e.ByPeak) == 0 {
		p.f("\nEntities by peak concurrency: none; no entity was touched by overlapping exchanges.\n")
		return
	}
	p.f("\nEntities by peak concurrency (overlapping exchanges, race candidates):\n")
	p.f("  PEAK\tAT\tCOUNT\tKEY\n")
	for _, s := range e.ByPeak {
		p.f("  %d\t%s\t%d\t%s\n", s.Peak, seconds(s.PeakAtSeconds), s.Count, oneLine(s.Key))
	}
}

func (p *printer) bodies(title string, bs []Body) {
	if len(bs) == 0 {
		return
	}
	p.f("\n%s:\n", title)
	p.f("  SIZE\tCAPTURED\tEXCHANGE\tROUTE\n")
	for _, b := range bs {
		captured := bytesize(b.Captured)
		if b.Truncated {
			captured += " (truncated)"
		}
		p.f("  %s\t%s\t%d\t%s\n", bytesize(b.Size), captured, b.Exchange, oneLine(strings.TrimSpace(b.Method+" "+b.Route)))
	}
}

func (p *printer) errors(e *Errors) {
	if len(e.Messages) == 0 {
		return
	}
	p.f("\nErrors (top %d messages):\n", len(e.Messages))
	p.f("  COUNT\tFIRST\tMESSAGE\n")
	for _, m := range e.Messages {
		p.f("  %d\t%d\t%s\n", m.Count, m.FirstExchange, oneLine(m.Message))
	}
	if e.Untracked > 0 {
		p.f("  %d\t-\t(messages past the distinct-message limit)\n", e.Untracked)
	}
}

func joinCounts(cs []Count) string {
	if len(cs) == 0 {
		return "-"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Name, c.Count)
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a hostile message from breaking the table.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

func millis(ms float64) string {
	switch {
	case ms < 10:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
	return seconds(ms / 1000)
}

func bytesize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
