package scenarios

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Sentinel errors. Every error Parse, Load, Validate and Apply return for a
// bad scenario matches ErrInvalid, so a command can map it to its bad-input
// exit code with one errors.Is.
var (
	ErrInvalid      = errors.New("invalid scenario")
	ErrUnknownField = errors.New("unknown field")
	ErrRequired     = errors.New("required")
)

// FieldError is one problem at one place in a scenario. Path is in the
// scenario's own YAML names ("checks[1].id"); Where says where the value came
// from when known: "file.yaml:12", "file.yaml" or a flag ("--speed").
type FieldError struct {
	Where string
	Path  string
	Err   error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// Is makes every FieldError an ErrInvalid as well as whatever it wraps.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// problems collects field errors; Validate methods return problems.err() so
// the user sees every mistake at once rather than one per run.
type problems []error

func (p *problems) add(path string, err error) {
	*p = append(*p, &FieldError{Path: path, Err: err})
}

func (p *problems) addf(path, format string, args ...any) {
	p.add(path, fmt.Errorf(format, args...))
}

// nest adds the errors of a child's Validate under prefix.
func (p *problems) nest(prefix string, err error) {
	for _, e := range flatten(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			*p = append(*p, &FieldError{Where: fe.Where, Path: joinPath(prefix, fe.Path), Err: fe.Err})
			continue
		}
		p.add(prefix, e)
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.Join(p...)
}

// flatten undoes errors.Join, recursively.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func joinPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	}
	return prefix + "." + path
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// key renders a map key as a path element for joinPath: bare when it is a
// plain word, bracketed and quoted otherwise so that dots in keys cannot be
// mistaken for nesting.
func key(k string) string {
	plain := k != ""
	for _, c := range k {
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			plain = false
			break
		}
	}
	if plain {
		return k
	}
	return "[" + strconv.Quote(k) + "]"
}

// sortFieldErrors orders errors the way a reader meets them in the file; errors
// without a line keep their relative order after those with one.
func sortFieldErrors(errs []error, line func(*FieldError) int) {
	sort.SliceStable(errs, func(i, j int) bool {
		var a, b *FieldError
		if !errors.As(errs[i], &a) || !errors.As(errs[j], &b) {
			return false
		}
		la, lb := line(a), line(b)
		if la == 0 || lb == 0 {
			return la != 0 && lb == 0
		}
		return la < lb
	})
}
