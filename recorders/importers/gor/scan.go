package gor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// separatorLine ends every record: GoReplay writes "\n🐵🙈🙉\n" after each
// payload, so the monkeys always sit alone on a line.
var separatorLine = []byte("🐵🙈🙉\n")

// rawRecord is one record as cut from the input.
type rawRecord struct {
	line int    // line of the record's header line, from 1
	data []byte // header line and payload, without the separator
	// tooLong means the record exceeded the entry limit; data then holds
	// only its beginning.
	tooLong bool
}

// scanner cuts the input into records, counting lines for error messages and
// bytes for the input limit. It holds at most one record (bounded by
// maxEntry) in memory.
type scanner struct {
	br         *bufio.Reader
	line       int   // lines consumed
	read       int64 // bytes consumed
	maxEntry   int64
	maxInput   int64 // 0: no limit
	headerOnly bool  // keep only each record's first line (the pre-scan)
	buf        []byte
}

func newScanner(r io.Reader, maxEntry, maxInput int64) *scanner {
	return &scanner{br: bufio.NewReaderSize(r, 64<<10), maxEntry: maxEntry, maxInput: maxInput}
}

// errInputLimit is returned by next when the input exceeds maxInput.
type errInputLimit struct{ limit int64 }

func (e errInputLimit) Error() string {
	return fmt.Sprintf("input larger than the %d-byte limit", e.limit)
}

// next returns the next non-empty record, or io.EOF. The record's data is
// valid until the following call.
func (s *scanner) next() (rawRecord, error) {
	for {
		rec, err := s.record()
		if err != nil {
			return rec, err
		}
		if rec.tooLong || len(bytes.TrimSpace(rec.data)) > 0 {
			return rec, nil
		}
	}
}

func (s *scanner) record() (rawRecord, error) {
	rec := rawRecord{line: s.line + 1}
	s.buf = s.buf[:0]
	atLineStart := true
	firstLineDone := false
	for {
		chunk, err := s.br.ReadSlice('\n')
		if len(chunk) > 0 {
			s.read += int64(len(chunk))
			if s.maxInput > 0 && s.read > s.maxInput {
				return rec, errInputLimit{s.maxInput}
			}
			complete := chunk[len(chunk)-1] == '\n'
			if complete {
				s.line++
			}
			if atLineStart && complete && bytes.Equal(chunk, separatorLine) {
				rec.data = bytes.TrimSuffix(s.buf, []byte("\n"))
				return rec, nil
			}
			switch {
			case s.headerOnly && firstLineDone:
			case int64(len(s.buf)+len(chunk)) > s.maxEntry:
				rec.tooLong = true
			default:
				s.buf = append(s.buf, chunk...)
			}
			if complete {
				firstLineDone = true
			}
			atLineStart = complete
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if len(s.buf) == 0 && !rec.tooLong {
				return rec, io.EOF
			}
			// A last record without its separator: a capture cut short.
			rec.data = s.buf
			return rec, nil
		default:
			return rec, err
		}
	}
}

// Payload types of GoReplay's header line.
const (
	typeRequest  = '1'
	typeResponse = '2'
	typeReplayed = '3'
)

// meta is a record's header line: "TYPE ID TIMESTAMP_NS [LATENCY_NS]".
type meta struct {
	typ     byte
	id      string
	ts      int64 // Unix nanoseconds
	latency int64 // -1 when the version wrote none
}

// Timestamps outside these bounds are not GoReplay's Unix nanoseconds; they
// would also overflow offsets.
const (
	minTS = 31536000 * 1e9    // 1971-01-01
	maxTS = 7258118400 * 1e9  // 2200-01-01
	maxNs = 100 * 86400 * 1e9 // a latency longer than 100 days is garbage
)

func parseMeta(line []byte) (meta, error) {
	fields := strings.Fields(string(line))
	if len(fields) < 3 || len(fields) > 4 {
		return meta{}, fmt.Errorf("header line %s: want \"TYPE ID TIMESTAMP_NS [LATENCY_NS]\"", quote(line))
	}
	m := meta{id: fields[1], latency: -1}
	if len(fields[0]) != 1 || fields[0][0] < typeRequest || fields[0][0] > typeReplayed {
		return meta{}, fmt.Errorf("header line %s: unknown payload type %q (want 1, 2 or 3)", quote(line), fields[0])
	}
	m.typ = fields[0][0]
	ts, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || ts < minTS || ts > maxTS {
		return meta{}, fmt.Errorf("header line %s: timestamp %q is not Unix nanoseconds", quote(line), fields[2])
	}
	m.ts = ts
	if len(fields) == 4 {
		lat, err := strconv.ParseInt(fields[3], 10, 64)
		if err != nil || lat > maxNs {
			return meta{}, fmt.Errorf("header line %s: latency %q is not nanoseconds", quote(line), fields[3])
		}
		if lat >= 0 {
			m.latency = lat
		}
	}
	return m, nil
}

// splitRecord cuts a record into its header line and its payload.
func splitRecord(data []byte) (line, payload []byte) {
	line, payload, _ = bytes.Cut(data, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), payload
}

func quote(b []byte) string {
	const limit = 80
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "…"
	}
	return strconv.Quote(string(b))
}
