package importcmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/jsonl"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/importers"
)

// importJSONL copies a JSON Lines stream into a recording unchanged.
func importJSONL(ctx context.Context, in io.Reader, name string, out *output, skipInvalid bool, errOut io.Writer) (string, error) {
	dec := jsonl.NewDecoder(in, jsonl.Name(name))
	var st jsonlStats
	hdr, err := dec.Header()
	if err != nil {
		// A bad first line may be skipped like any other, unless it is a
		// header this build cannot honour.
		if !skipInvalid || !errors.Is(err, jsonl.ErrInvalid) || errors.Is(err, recording.ErrVersion) {
			return "", err
		}
		st.skip(errOut, err)
	}
	s, err := out.newSink(ctx, hdr)
	if err != nil {
		return "", err
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		rec, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if skipInvalid && errors.Is(err, jsonl.ErrInvalid) {
				st.skip(errOut, err)
				continue
			}
			return "", err
		}
		st.add(rec)
		if err := s.Write(ctx, rec); err != nil {
			return "", err
		}
	}
	return st.String(), nil
}

// maxTrackedSessions bounds the memory spent counting distinct sessions.
const maxTrackedSessions = 1 << 20

type jsonlStats struct {
	records, exchanges, noSession, skipped int64
	sessions                               map[string]struct{}
	capped                                 bool
}

func (s *jsonlStats) add(rec *rprpb.Record) {
	s.records++
	ex := rec.GetExchange()
	if ex == nil {
		return
	}
	s.exchanges++
	if ex.Session == "" {
		s.noSession++
		return
	}
	if s.sessions == nil {
		s.sessions = map[string]struct{}{}
	}
	if _, ok := s.sessions[ex.Session]; !ok {
		if len(s.sessions) >= maxTrackedSessions {
			s.capped = true
			return
		}
		s.sessions[ex.Session] = struct{}{}
	}
}

func (s *jsonlStats) skip(w io.Writer, err error) {
	s.skipped++
	if s.skipped <= importers.MaxReportedErrors {
		fmt.Fprintf(w, "reprise import: skipped: %v\n", err)
	}
}

func (s *jsonlStats) String() string {
	sessions := fmt.Sprint(len(s.sessions))
	if s.capped {
		sessions = "≥" + sessions
	}
	msg := fmt.Sprintf("%d records imported (%d exchanges, %d of other kinds), %s sessions",
		s.records, s.exchanges, s.records-s.exchanges, sessions)
	if s.noSession > 0 {
		msg += fmt.Sprintf(", %d without session", s.noSession)
	}
	if s.skipped > 0 {
		msg += fmt.Sprintf(", %d lines skipped as invalid", s.skipped)
	}
	return msg
}
