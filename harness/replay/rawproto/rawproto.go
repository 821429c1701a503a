package rawproto

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// Errors of Replace and SplitLocation, matched with errors.Is.
var (
	// ErrBadPath: a field path is not dotted field numbers ("1.3.2").
	ErrBadPath = errors.New("rawproto: bad field path")
	// ErrNoField: the message has no leaf at the path and occurrence.
	ErrNoField = errors.New("rawproto: no such field")
	// ErrMismatch: the leaf exists but holds neither old nor old as a token.
	ErrMismatch = errors.New("rawproto: field does not hold the old value")
	// ErrNotInteger: a varint leaf matched, but the new value is not an integer.
	ErrNotInteger = errors.New("rawproto: new value for a varint field is not an integer")
	// ErrEmptyOld: there is nothing to look for.
	ErrEmptyOld = errors.New("rawproto: old value is empty")
)

// All, as the occurrence number, selects every occurrence of a path.
const All = -1

// TokenSeps are the bytes that separate tokens inside a string field: the
// planner's separators, so a value the planner found as a token of a field
// ("orders/42" holds "42") is found and replaced here as that token.
const TokenSeps = plan.TokenSeps

// errStop ends a walk early once a read has what it needs.
var errStop = errors.New("stop")

// Get returns the value of a leaf field of msg: a string or bytes field's
// bytes, or a varint's unsigned decimal text (an int64 -1 reads as
// "18446744073709551615", as the planner sees it). Fixed32/64 fields are
// never leaves.
//
// path is dotted field numbers from the top message ("1.3.2"), the way
// plan.ScanProto names fields; a length-delimited field counts as a nested
// message exactly when ScanProto descends into it. ScanProto reports every
// occurrence of a repeated field (at any level) under the same path, so nth
// picks one: the leaves whose path is path, in the order ScanProto reports
// them (document order), counted from 0. For ListItemsResponse, the name of
// the third item is Get(msg, "1.2", 2).
//
// Get reports false when there is no such leaf, the path or nth is invalid,
// or the message is damaged before the leaf.
func Get(msg []byte, path string, nth int) (string, bool) { return get(msg, path, nth, false) }

// get is Get, or Item when items is set.
func get(msg []byte, path string, nth int, items bool) (string, bool) {
	target, err := parsePath(path)
	if err != nil || nth < 0 {
		return "", false
	}
	var got leaf
	found := false
	i := 0
	w := walker{target: target, items: items, visit: func(_ []uint64, l leaf) (leaf, bool, error) {
		if i == nth {
			got, found = l, true
			return leaf{}, false, errStop
		}
		i++
		return leaf{}, false, nil
	}}
	_, _, _ = w.walk(msg, 0, 0)
	if !found {
		return "", false
	}
	return leafText(got), true
}

// Occurrence returns the first occurrence number at path whose leaf holds
// value (whole, or as a token of a printable string): the nth to pass to Get
// on a live response so as to read the leaf that stood where value stood in
// the recorded one.
func Occurrence(msg []byte, path, value string) (int, bool) {
	return occurrence(msg, path, value, false)
}

// occurrence is Occurrence, or ItemHolding when items is set.
func occurrence(msg []byte, path, value string, items bool) (int, bool) {
	target, err := parsePath(path)
	if err != nil || value == "" {
		return 0, false
	}
	i, found := 0, false
	w := walker{target: target, items: items, visit: func(_ []uint64, l leaf) (leaf, bool, error) {
		if holds(l, value) {
			found = true
			return leaf{}, false, errStop
		}
		i++
		return leaf{}, false, nil
	}}
	_, _, _ = w.walk(msg, 0, 0)
	return i, found
}

// Item returns the nth occurrence of the field at path, counting every
// occurrence whether or not its bytes parse as a message, where Get counts
// only the leaves ScanProto reports: a binary id that parses as a message
// by chance (1 to 2% of random 8 to 16 bytes) is still an item of its
// repeated field, so the items of a recorded and a live message line up
// by position. ItemHolding finds the nth to pass it.
func Item(msg []byte, path string, nth int) (string, bool) { return get(msg, path, nth, true) }

// ItemHolding is Occurrence for Item: the first item at path that holds
// value, whole or as a token of a printable string.
func ItemHolding(msg []byte, path, value string) (int, bool) {
	return occurrence(msg, path, value, true)
}

// Replace returns a copy of msg in which the leaf at (path, nth), as Get
// names it, has old replaced by new; nth All (any negative nth) replaces at
// every occurrence that holds old. A string or bytes leaf equal to old
// becomes new; a printable string that holds old as a token (bounded by
// TokenSeps or the ends) has each such token replaced. A varint leaf must equal old as
// decimal text (Get's unsigned text, or signed text for a negative int64)
// and gets new parsed as an integer (unsigned, or a negative int64 as two's
// complement).
//
// The planner's gRPC locations carry no occurrence number, so a use in a
// request is rewritten with All, and the leaf to capture from a live
// response is found by position, with ItemHolding on the recorded one and
// Item on the live one.
//
// Every enclosing length prefix is re-encoded; all other bytes, including
// unknown fields and overlong varints, are copied unchanged, and an
// unchanged length keeps its original prefix bytes, so old == new gives msg
// back byte for byte. A damaged message is an error wrapping ErrBadWire with
// the byte offset, wherever the damage is, so the output is valid wire
// format whenever the input is.
func Replace(msg []byte, path string, nth int, old, new string) ([]byte, error) {
	if old == "" {
		return nil, fmt.Errorf("rawproto: replace at %s: %w", path, ErrEmptyOld)
	}
	out, matched, hit, err := ReplaceEach(msg, path, nth, []string{old}, []string{new})
	switch {
	case err != nil:
		return nil, err
	case !matched[0]:
		return nil, fmt.Errorf("rawproto: replace at %s occurrence %d: %w", path, nth, ErrMismatch)
	case !hit[0]:
		_, perr := parseInteger(new)
		return nil, fmt.Errorf("rawproto: replace at %s occurrence %d: %w", path, nth, perr)
	}
	return out, nil
}

// ReplaceEach is Replace for several values at once: a leaf at path
// (occurrence nth, or All) that holds olds[i], whole or as a token, gets
// news[i], every pair in one pass over the leaf, so that a new value is
// never itself taken for another pair's old one. matched[i] reports that
// some leaf at path held olds[i], hit[i] that one was replaced: a varint
// leaf whose new value is not an integer is matched but not hit. Empty
// olds match nothing. The error is ErrNoField when there is no leaf at
// path and nth, or a bad path or damaged message as for Replace.
func ReplaceEach(msg []byte, path string, nth int, olds, news []string) (out []byte, matched, hit []bool, err error) {
	target, err := parsePath(path)
	if err != nil {
		return nil, nil, nil, err
	}
	matched, hit = make([]bool, len(olds)), make([]bool, len(olds))
	leafHit := make([]bool, len(olds))
	seen := 0
	w := walker{target: target, visit: func(_ []uint64, l leaf) (leaf, bool, error) {
		i := seen
		seen++
		if nth >= 0 && i != nth {
			return leaf{}, false, nil
		}
		if l.varint {
			for k, old := range olds {
				if old == "" || !varintIs(l.v, old) {
					continue
				}
				matched[k] = true
				if v, err := parseInteger(news[k]); err == nil {
					hit[k] = true
					return leaf{varint: true, v: v}, true, nil
				}
			}
			return leaf{}, false, nil
		}
		b, changed := replaceTokens(l.b, olds, news, leafHit, true)
		for k, h := range leafHit {
			if h {
				matched[k], hit[k], leafHit[k] = true, true, false
			}
		}
		if !changed {
			return leaf{}, false, nil
		}
		return leaf{b: b}, true, nil
	}}
	out, changed, err := w.walk(msg, 0, 0)
	switch {
	case err != nil:
		return nil, nil, nil, fmt.Errorf("rawproto: replace at %s: %w", path, err)
	case seen == 0 || (nth >= 0 && nth >= seen):
		return nil, nil, nil, fmt.Errorf("rawproto: replace at %s occurrence %d: %w", path, nth, ErrNoField)
	case !changed:
		return bytes.Clone(msg), matched, hit, nil
	}
	return out, matched, hit, nil
}

// ReplaceAll returns a copy of msg in which every string or bytes leaf equal
// to old, and every token old of a printable string leaf, anywhere in the
// message tree, is replaced by new, with the enclosing lengths re-encoded;
// n counts the replacements (a leaf holding old twice counts 2). Varint
// leaves are left alone: a number means something only at a known path, for
// which there is Replace. Nested messages are recognised as plan.ScanProto
// recognises them. A damaged message is an error wrapping ErrBadWire.
func ReplaceAll(msg []byte, old, new string) (out []byte, n int, err error) {
	if old == "" {
		return nil, 0, fmt.Errorf("rawproto: replace all: %w", ErrEmptyOld)
	}
	w := walker{visit: func(_ []uint64, l leaf) (leaf, bool, error) {
		if l.varint {
			return leaf{}, false, nil
		}
		b, k := replaceToken(l.b, old, new)
		if k == 0 {
			return leaf{}, false, nil
		}
		n += k
		return leaf{b: b}, true, nil
	}}
	out, changed, err := w.walk(msg, 0, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("rawproto: replace all: %w", err)
	}
	if !changed {
		return bytes.Clone(msg), n, nil
	}
	return out, n, nil
}

// ReplaceAllEach is ReplaceAll for several values at once, every pair in
// one pass over each leaf (see ReplaceEach); hit[i] reports that olds[i]
// was replaced somewhere. Empty olds match nothing.
func ReplaceAllEach(msg []byte, olds, news []string) (out []byte, hit []bool, err error) {
	return replaceAllEach(msg, olds, news, true)
}

// replaceAllEach is ReplaceAllEach; nested says whether a printable leaf
// that parses as a message may be rewritten as one (see replaceTokens).
func replaceAllEach(msg []byte, olds, news []string, nested bool) (out []byte, hit []bool, err error) {
	hit = make([]bool, len(olds))
	w := walker{visit: func(_ []uint64, l leaf) (leaf, bool, error) {
		if l.varint {
			return leaf{}, false, nil
		}
		b, changed := replaceTokens(l.b, olds, news, hit, nested)
		if !changed {
			return leaf{}, false, nil
		}
		return leaf{b: b}, true, nil
	}}
	out, changed, err := w.walk(msg, 0, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("rawproto: replace all: %w", err)
	}
	if !changed {
		return bytes.Clone(msg), hit, nil
	}
	return out, hit, nil
}

// SplitLocation splits the path of a plan.PartGRPC location,
// "[message index].field.path", into the index of the message among those
// of its direction and the field path for Get and Replace.
func SplitLocation(loc string) (message int, path string, err error) {
	rest, ok := strings.CutPrefix(loc, "[")
	idx, fields, ok2 := strings.Cut(rest, "].")
	if !ok || !ok2 {
		return 0, "", fmt.Errorf("%w: location %q is not [message].field.path", ErrBadPath, loc)
	}
	message, err = strconv.Atoi(idx)
	if err != nil || message < 0 || !canonicalNumber(idx) {
		return 0, "", fmt.Errorf("%w: location %q: bad message index", ErrBadPath, loc)
	}
	if _, err := parsePath(fields); err != nil {
		return 0, "", err
	}
	return message, fields, nil
}

// parsePath reads "1.3.2". Numbers are written as ScanProto writes them (no
// sign, no leading zero), so that one field has one spelling.
func parsePath(path string) ([]uint64, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadPath)
	}
	out := make([]uint64, 0, strings.Count(path, ".")+1)
	for seg := range strings.SplitSeq(path, ".") {
		if len(out) >= MaxDepth {
			return nil, fmt.Errorf("%w: %q is deeper than %d levels", ErrBadPath, path, MaxDepth)
		}
		v, err := strconv.ParseUint(seg, 10, 32)
		if err != nil || v == 0 || v > maxFieldNumber || !canonicalNumber(seg) {
			return nil, fmt.Errorf("%w: %q: field number %q", ErrBadPath, path, seg)
		}
		out = append(out, v)
	}
	return out, nil
}

func canonicalNumber(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseInteger reads a varint's new value: unsigned decimal, or a negative
// int64 in two's complement, as an int32/int64 field encodes it.
func parseInteger(s string) (uint64, error) {
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		return v, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return uint64(v), nil
	}
	return 0, ErrNotInteger
}

// varintIs reports whether a varint is s, read as Get reads it or, for a
// negative int64, as its signed decimal text.
func varintIs(v uint64, s string) bool {
	return strconv.FormatUint(v, 10) == s || (int64(v) < 0 && strconv.FormatInt(int64(v), 10) == s)
}

func leafText(l leaf) string {
	if l.varint {
		return strconv.FormatUint(l.v, 10)
	}
	return string(l.b)
}

// holds reports whether a leaf holds value whole or as a token.
func holds(l leaf, value string) bool {
	if l.varint {
		return varintIs(l.v, value)
	}
	if string(l.b) == value {
		return true
	}
	_, end := tokenSpan(l.b, value, 0)
	return end >= 0 && plan.Printable(l.b)
}

// replaceTokens replaces each of olds in the leaf s by its news: s whole
// when it equals one, else every separator-bounded occurrence when s is
// printable (the planner tokenizes only printable strings; it offers
// binary bytes whole), all in one pass; hit[i] is set for each olds[i]
// replaced.
//
// A printable leaf that parses completely as a message, with an old value
// in one of its own string fields, is rewritten as that message when
// nested is set (one level: not within it again), so that the field's
// length prefix follows a value of another length: {4: "<32 hex>"} is
// the printable "\" <32 hex>", whose ' ' is the field's length, and a
// token replacement would leave it stale.
func replaceTokens(s []byte, olds, news []string, hit []bool, nested bool) ([]byte, bool) {
	if nested && plan.Printable(s) && plan.ParsesAsMessage(s, 0) {
		if out, h, err := replaceAllEach(s, olds, news, false); err == nil && slices.Contains(h, true) {
			for i, ok := range h {
				hit[i] = hit[i] || ok
			}
			return out, !bytes.Equal(out, s)
		}
	}
	if !plan.Printable(s) {
		for i, old := range olds {
			if old != "" && string(s) == old {
				hit[i] = true
				return []byte(news[i]), old != news[i]
			}
		}
		return nil, false
	}
	out, changed := plan.ReplaceTokens(string(s), olds, news, hit)
	if !changed {
		return nil, false
	}
	return []byte(out), true
}

// replaceToken replaces old in s: s whole when it equals old, else every
// separator-bounded occurrence when s is printable (the planner tokenizes
// only printable strings; it offers binary bytes whole).
func replaceToken(s []byte, old, new string) ([]byte, int) {
	if string(s) == old {
		return []byte(new), 1
	}
	if !plan.Printable(s) {
		return nil, 0
	}
	var out []byte
	n, last := 0, 0
	for from := 0; ; {
		start, end := tokenSpan(s, old, from)
		if end < 0 {
			break
		}
		out = append(out, s[last:start]...)
		out = append(out, new...)
		last, from = end, end
		n++
	}
	if n == 0 {
		return nil, 0
	}
	return append(out, s[last:]...), n
}

// tokenSpan finds the first occurrence of tok in s at or after from that is
// bounded by a separator or an end on both sides; end is -1 when none is.
func tokenSpan(s []byte, tok string, from int) (start, end int) {
	if tok == "" {
		return 0, -1
	}
	for from <= len(s)-len(tok) {
		j := bytes.Index(s[from:], []byte(tok))
		if j < 0 {
			break
		}
		j += from
		e := j + len(tok)
		if (j == 0 || isSep(s[j-1])) && (e == len(s) || isSep(s[e])) {
			return j, e
		}
		from = j + 1
	}
	return 0, -1
}

func isSep(c byte) bool { return strings.IndexByte(TokenSeps, c) >= 0 }
