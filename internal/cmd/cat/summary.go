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

// summaryWriter writes one line per record:
//
//	2026-03-01T09:30:00.001Z player-42 POST /v1/login → 200 2.65ms
type summaryWriter struct {
	w      *bufio.Writer
	anchor int64
}

func (s *summaryWriter) header(h *rprpb.FileHeader) error {
	s.anchor = h.GetClock().GetAnchorUnixNano()
	return nil
}

func (s *summaryWriter) record(rec *rprpb.Record) error {
	ex := rec.GetExchange()
	if ex == nil {
		_, err := fmt.Fprintf(s.w, "(a record of a kind this build does not know, %d bytes)\n", proto.Size(rec))
		return err
	}
	_, err := fmt.Fprintln(s.w, summaryLine(ex, s.anchor))
	return err
}

// summaryLine renders an exchange as one human line; anchor is the
// recording's clock anchor.
func summaryLine(ex *rprpb.Exchange, anchor int64) string {
	var b strings.Builder
	b.WriteString(time.Unix(0, anchor+ex.StartNs).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
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
