package importers

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is. Every error about the input wraps
// one of them, so a caller can map both to a bad-input exit code.
var (
	// ErrInvalid means the input is malformed: bad syntax, a bad entry or
	// record.
	ErrInvalid = errors.New("invalid input")
	// ErrLimit means the input exceeds a configured limit.
	ErrLimit = errors.New("input exceeds a limit")
)

// InputError locates a problem in an input. It wraps ErrInvalid or ErrLimit
// and the underlying error.
type InputError struct {
	// File is the name given to the importer.
	File string
	// Where is the place in the file: "entries[12].request.url", "line 57".
	Where string
	Err   error
	kind  error
}

// Invalid returns an error about malformed input at where in file.
func Invalid(file, where string, err error) *InputError {
	return &InputError{File: file, Where: where, Err: err, kind: ErrInvalid}
}

// Limit returns an error about input beyond a limit at where in file.
func Limit(file, where string, err error) *InputError {
	return &InputError{File: file, Where: where, Err: err, kind: ErrLimit}
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(e.kind.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the underlying error.
func (e *InputError) Unwrap() []error { return []error{e.kind, e.Err} }

// Stats counts what an import did.
type Stats struct {
	// Read is how many entries (HAR) or records (.gor) were read.
	Read int64
	// Imported is how many exchanges were written.
	Imported int64
	// Skipped is how many bad entries or records were skipped under
	// SkipInvalid; Errors holds the first MaxReportedErrors of them.
	Skipped int64
	Errors  []error
	// Unpaired is how many requests were written without a response;
	// Evicted is how many of them were given up early because MaxPending
	// messages were already waiting.
	Unpaired int64
	Evicted  int64
	// OrphanResponses is how many responses never met their request; they
	// are not written (there is nothing to replay).
	OrphanResponses int64
	// Replayed is how many .gor replayed responses (type 3) were ignored.
	Replayed int64
	// TruncatedBodies is how many bodies were cut to the body cap or were
	// incomplete in the input.
	TruncatedBodies int64
	// Sessions is how many distinct session keys the exchanges have, counted
	// exactly up to maxTrackedSessions (SessionsCapped says it was reached);
	// NoSession is how many exchanges have no key.
	Sessions       int64
	SessionsCapped bool
	NoSession      int64
	// First and Last are the earliest start and latest end, wall clock.
	First, Last time.Time
}

// Skip counts a skipped entry and keeps its error if there is room.
func (s *Stats) Skip(err error) {
	s.Skipped++
	if len(s.Errors) < MaxReportedErrors {
		s.Errors = append(s.Errors, err)
	}
}

// String is a one-line summary for humans.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d exchanges imported from %d entries", s.Imported, s.Read)
	sessions := fmt.Sprint(s.Sessions)
	if s.SessionsCapped {
		sessions = "≥" + sessions
	}
	fmt.Fprintf(&b, ", %s sessions", sessions)
	for _, c := range []struct {
		n    int64
		what string
	}{
		{s.NoSession, "without session"},
		{s.Skipped, "skipped as invalid"},
		{s.Unpaired, "without response"},
		{s.Evicted, "given up waiting for a response"},
		{s.OrphanResponses, "responses without request"},
		{s.Replayed, "replayed responses ignored"},
		{s.TruncatedBodies, "bodies truncated"},
	} {
		if c.n > 0 {
			fmt.Fprintf(&b, ", %d %s", c.n, c.what)
		}
	}
	return b.String()
}
