package cat

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// summaryWriter writes one line per record, an exchange or a replay result:
//
//	2026-03-01T09:30:00.001Z player-42 POST /v1/login → 200 2.65ms
//	2026-03-01T09:30:00.001Z player-42 POST /v1/login → 200 2.25ms (replay of #1)
type summaryWriter struct {
	w      *bufio.Writer
	anchor int64
}

func (s *summaryWriter) header(h *rprpb.FileHeader) error {
	s.anchor = h.GetClock().GetAnchorUnixNano()
	return nil
}

func (s *summaryWriter) record(rec *rprpb.Record) error {
	var line string
	switch {
	case rec.GetExchange() != nil:
		line = summaryLine(rec.GetExchange(), s.anchor)
	case rec.GetResult() != nil:
		line = resultLine(rec.GetResult(), s.anchor)
	default:
		line = fmt.Sprintf("(a record of a kind this build does not know, %d bytes)", proto.Size(rec))
	}
	_, err := fmt.Fprintln(s.w, line)
	return err
}

// wallTime formats an offset on the recording's clock to the millisecond.
func wallTime(anchor, ns int64) string {
	return time.Unix(0, anchor+ns).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// summaryLine renders an exchange as one human line; anchor is the
// recording's clock anchor.
func summaryLine(ex *rprpb.Exchange, anchor int64) string {
	var b strings.Builder
	b.WriteString(wallTime(anchor, ex.StartNs))
	b.WriteByte(' ')
	b.WriteString(orDash(ex.Session))
	b.WriteByte(' ')
	req := ex.GetRequest()
	b.WriteString(orDash(req.GetMethod()))
	b.WriteByte(' ')
	target := req.GetPath()
	if g := ex.GetGrpc(); g != nil && g.FullMethod != "" {
		target = g.FullMethod
	} else if req.GetRawQuery() != "" {
		target += "?" + req.GetRawQuery()
	}
	b.WriteString(orDash(target))
	b.WriteString(" → ")
	b.WriteString(outcome(ex))
	b.WriteByte(' ')
	b.WriteString(time.Duration(ex.EndNs - ex.StartNs).Round(time.Microsecond).String())
	return b.String()
}

func outcome(ex *rprpb.Exchange) string {
	var parts []string
	if r := ex.GetResponse(); r != nil {
		parts = append(parts, fmt.Sprint(r.Status))
	}
	if g := ex.GetGrpc(); g != nil {
		parts = append(parts, "grpc "+codes.Code(g.StatusCode).String())
	}
	if w := ex.GetWebsocket(); w != nil {
		parts = append(parts, fmt.Sprintf("websocket %d frames", len(w.Messages)))
	}
	if ex.Error != "" {
		parts = append(parts, fmt.Sprintf("error %q", ex.Error))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// resultLine renders a replay result like an exchange: intended send time,
// session, method and route, outcome, then latency (done − intended, so a
// late generator shows), and which exchange it replays.
func resultLine(r *rprpb.Result, anchor int64) string {
	var b strings.Builder
	b.WriteString(wallTime(anchor, r.IntendedNs))
	b.WriteByte(' ')
	b.WriteString(orDash(r.Session))
	b.WriteByte(' ')
	b.WriteString(orDash(r.Method))
	b.WriteByte(' ')
	b.WriteString(orDash(r.Route))
	b.WriteString(" → ")
	b.WriteString(resultOutcome(r))
	b.WriteByte(' ')
	if r.Dropped || r.DoneNs == 0 {
		b.WriteByte('-')
	} else {
		b.WriteString(time.Duration(r.DoneNs - r.IntendedNs).Round(time.Microsecond).String())
	}
	fmt.Fprintf(&b, " (replay of #%d", r.ExchangeId)
	if r.Clone != 0 {
		fmt.Fprintf(&b, ", clone %d", r.Clone)
	}
	b.WriteByte(')')
	return b.String()
}

func resultOutcome(r *rprpb.Result) string {
	var parts []string
	if r.Dropped {
		parts = append(parts, "dropped")
	}
	if r.Status != 0 {
		parts = append(parts, fmt.Sprint(r.Status))
	}
	if r.GrpcStatus >= 0 {
		parts = append(parts, "grpc "+codes.Code(r.GrpcStatus).String())
	}
	if r.Error != "" {
		parts = append(parts, fmt.Sprintf("error %q", r.Error))
	}
	if n := len(r.Unresolved); n > 0 {
		parts = append(parts, fmt.Sprintf("%d unresolved", n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
