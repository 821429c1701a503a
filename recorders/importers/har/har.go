package har

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/reprise-dev/reprise/recorders/importers"
)

// DefaultMaxInputBytes bounds a HAR file unless importers.MaxInputBytes says
// otherwise: the whole document is held in memory.
const DefaultMaxInputBytes = 256 << 20

// Import reads the HAR document from r (called name in errors), calls newSink
// once with the file header and writes one exchange per entry, in start
// order. See the package documentation for the mapping.
func Import(ctx context.Context, r io.Reader, name string, newSink importers.NewSinkFunc, opts ...importers.Option) (importers.Stats, error) {
	var st importers.Stats
	cfg, err := importers.NewConfig(opts...)
	if err != nil {
		return st, err
	}
	limit := cfg.MaxInputBytes
	if limit <= 0 {
		limit = DefaultMaxInputBytes
		cfg.MaxInputBytes = limit // so that the header records it
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return st, fmt.Errorf("%s: read: %w", name, err)
	}
	if int64(len(data)) > limit {
		return st, importers.Limit(name, "", fmt.Errorf("larger than the %d-byte limit", limit))
	}
	doc, err := parse(ctx, data, name, cfg, &st)
	if err != nil {
		return st, err
	}

	entries := doc.entries
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].ex.StartNs < entries[j].ex.StartNs })
	var anchor int64
	if len(entries) > 0 {
		anchor = entries[0].ex.StartNs
	}
	hdr := cfg.Header("har", name, anchor)
	if doc.creator != "" {
		hdr.RecorderConfig["har.creator"] = doc.creator
	}
	s, err := newSink(ctx, hdr)
	if err != nil {
		return st, err
	}
	if s == nil {
		return st, importers.ErrNoSink
	}
	em := importers.NewEmitter(cfg, s, anchor, &st)
	fb := importers.Fallback{Key: "har:" + filepath.Base(name), Source: "har-file"}
	for i, c := range entries {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		c.ex.Id = uint64(i + 1)
		if err := em.Emit(ctx, c.ex, c.sessionHeader, fb); err != nil {
			return st, err
		}
		entries[i] = nil // written: let it go
	}
	return st, nil
}

type document struct {
	creator string
	entries []*converted
}

// parse walks the document token by token down to log.entries and converts
// each entry as it is decoded, so that one bad entry is reported by index
// and, under SkipInvalid, skipped.
func parse(ctx context.Context, data []byte, name string, cfg *importers.Config, st *importers.Stats) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		// The decoder's offsets are relative to the value it was reading;
		// checking the whole document again gives an absolute one.
		var se *json.SyntaxError
		var raw json.RawMessage
		if uerr := json.Unmarshal(data, &raw); errors.As(uerr, &se) {
			if se.Error() == "unexpected end of JSON input" {
				return importers.Invalid(name, position(data, int64(len(data))), io.ErrUnexpectedEOF)
			}
			return importers.Invalid(name, position(data, se.Offset-1), se)
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return importers.Invalid(name, position(data, dec.InputOffset()-1), err)
	}
	if err := expectDelim(dec, '{', "a HAR document"); err != nil {
		return nil, syntax(err)
	}
	doc := &document{}
	var sawLog, sawEntries bool
	err := eachKey(dec, func(key string) error {
		if key != "log" {
			return skip(dec)
		}
		sawLog = true
		if err := expectDelim(dec, '{', "the log object"); err != nil {
			return err
		}
		return eachKey(dec, func(key string) error {
			switch key {
			case "creator":
				var c struct{ Name, Version string }
				if err := dec.Decode(&c); err != nil {
					return err
				}
				doc.creator = c.Name
				if c.Version != "" {
					doc.creator += " " + c.Version
				}
				return nil
			case "entries":
				sawEntries = true
				return entries(ctx, dec, name, cfg, st, doc)
			}
			return skip(dec)
		})
	})
	if err != nil {
		var ie *importers.InputError
		if errors.As(err, &ie) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, importers.Invalid(name, position(data, dec.InputOffset()-1), errors.New("data after the HAR document"))
	}
	switch {
	case !sawLog:
		return nil, importers.Invalid(name, "log", errors.New("missing: not a HAR file"))
	case !sawEntries:
		return nil, importers.Invalid(name, "log.entries", errors.New("missing"))
	}
	return doc, nil
}

func entries(ctx context.Context, dec *json.Decoder, name string, cfg *importers.Config, st *importers.Stats, doc *document) error {
	if err := expectDelim(dec, '[', "the entries array"); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		st.Read++
		var e entry
		err := dec.Decode(&e)
		var c *converted
		if err == nil {
			c, err = convert(&e, cfg.MaxEntryBytes, cfg.BodyCap)
		}
		if err == nil {
			doc.entries = append(doc.entries, c)
			continue
		}
		ierr, ok := entryError(name, i, err)
		if !ok {
			return err // a syntax error: nothing after it can be trusted
		}
		if !cfg.SkipInvalid {
			return ierr
		}
		st.Skip(ierr)
	}
	_, err := dec.Token() // ']'
	return err
}

// entryError locates err in entries[i]; ok is false for errors that are not
// about one entry.
func entryError(name string, i int, err error) (*importers.InputError, bool) {
	where := fmt.Sprintf("entries[%d]", i)
	var fe *fieldError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &fe):
		if fe.limit {
			return importers.Limit(name, where+"."+fe.path, fe.err), true
		}
		return importers.Invalid(name, where+"."+fe.path, fe.err), true
	case errors.As(err, &te):
		if te.Field != "" {
			where += "." + te.Field
		}
		return importers.Invalid(name, where, fmt.Errorf("want %s, got JSON %s", te.Type, te.Value)), true
	}
	return nil, false
}

// eachKey calls fn for every key of the object whose '{' was just read, with
// the decoder positioned at the value, and consumes the closing '}'.
func eachKey(dec *json.Decoder, fn func(key string) error) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("want an object key, got %v", tok)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %s (%q), got %v", what, string(want), describe(tok))
	}
	return nil
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		return fmt.Sprintf("string %q", t)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

func skip(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

// position turns the offset of a byte into "line L, column C", both from 1.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d, column %d", line, col)
}
