package jsonl

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// DefaultMaxLineSize bounds one line, so that hostile input cannot make the
// decoder buffer without limit. It matches the largest block a recording
// reader accepts, base64 included.
const DefaultMaxLineSize = recording.MaxBlockSize / 3 * 4

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalid marks every error about the content of a line.
	ErrInvalid = errors.New("invalid JSON Lines recording")
	// ErrLineTooLong means a line is over the decoder's maximum size.
	ErrLineTooLong = errors.New("line too long")
)

// LineError locates a bad line. It matches ErrInvalid.
type LineError struct {
	// Name is the input's name when known.
	Name string
	// Line is 1-based.
	Line int
	// Field is the JSON path of the bad field, when known ("request.headers[2]").
	Field string
	Err   error
}

func (e *LineError) Error() string {
	name := e.Name
	if name == "" {
		name = "jsonl"
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: line %d: field %q: %v", name, e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: line %d: %v", name, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Is makes every LineError match ErrInvalid.
func (e *LineError) Is(target error) bool { return target == ErrInvalid }

// Decoder reads a header and records from JSON Lines. It holds one line in
// memory at a time.
type Decoder struct {
	name    string
	maxLine int
	br      *bufio.Reader
	line    int
	buf     []byte
	hdr     *rprpb.FileHeader
	anchor  int64
	pending []byte // the first record line, read while looking for a header
	started bool
	eof     bool
}

// Option configures a Decoder.
type Option func(*Decoder)

// Name sets the input name used in error messages.
func Name(name string) Option { return func(d *Decoder) { d.name = name } }

// MaxLineSize sets the longest line accepted (DefaultMaxLineSize by default).
func MaxLineSize(n int) Option {
	return func(d *Decoder) {
		if n > 0 {
			d.maxLine = n
		}
	}
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	d := &Decoder{br: bufio.NewReaderSize(r, 64<<10), maxLine: DefaultMaxLineSize}
	for _, o := range opts {
		o(d)
	}
	return d
}

// DefaultHeader is the header of a stream that has no header line: format
// version 1 and an imported clock anchored at the Unix epoch, so that start
// times given as RFC 3339 become offsets in Unix nanoseconds.
func DefaultHeader() *rprpb.FileHeader {
	return &rprpb.FileHeader{
		FormatVersion: recording.FormatVersion,
		Recorder:      "reprise import jsonl",
		Clock:         &rprpb.Clock{Source: "imported"},
	}
}

// Header returns the stream's header: the first line when it is a header
// line, else DefaultHeader. It reads at most one line.
func (d *Decoder) Header() (*rprpb.FileHeader, error) {
	if d.started {
		return d.hdr, nil
	}
	d.started = true
	d.hdr = DefaultHeader()
	line, err := d.readLine()
	if errors.Is(err, io.EOF) {
		return d.hdr, nil
	}
	if err != nil {
		return d.hdr, err
	}
	kind, err := d.kind(line)
	if err != nil {
		return d.hdr, err
	}
	if kind != KindHeader {
		d.pending = append([]byte(nil), line...)
		return d.hdr, nil
	}
	var v headerView
	if err := d.unmarshal(line, &v); err != nil {
		return d.hdr, err
	}
	h, err := v.header()
	if err == nil && v.Proto != "" {
		h = &rprpb.FileHeader{}
		err = unmarshalProto("protobuf", v.Proto, h)
	}
	if err != nil {
		return d.hdr, d.lineErr(err)
	}
	if h.FormatVersion > recording.FormatVersion {
		return d.hdr, d.fieldErr("format_version", fmt.Errorf("%d: this build reads up to %d: %w", h.FormatVersion, recording.FormatVersion, recording.ErrVersion))
	}
	d.hdr = h
	d.anchor = h.GetClock().GetAnchorUnixNano()
	return h, nil
}

// Next returns the next record, or io.EOF after the last. A *LineError
// consumes its line: calling Next again goes on with the next one.
func (d *Decoder) Next() (*rprpb.Record, error) {
	if !d.started {
		if _, err := d.Header(); err != nil {
			return nil, err
		}
	}
	line := d.pending
	d.pending = nil
	if line == nil {
		var err error
		if line, err = d.readLine(); err != nil {
			return nil, err
		}
	}
	kind, err := d.kind(line)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindExchange:
		var v exchangeView
		if err := d.unmarshal(line, &v); err != nil {
			return nil, err
		}
		if v.Proto != "" {
			return d.rawRecord(v.Proto)
		}
		ex, err := v.exchange(d.anchor)
		if err != nil {
			return nil, d.lineErr(err)
		}
		return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}, nil
	case KindResult:
		var v resultView
		if err := d.unmarshal(line, &v); err != nil {
			return nil, err
		}
		if v.Proto != "" {
			return d.rawRecord(v.Proto)
		}
		r, err := v.result(d.anchor)
		if err != nil {
			return nil, d.lineErr(err)
		}
		return &rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}, nil
	case KindRaw:
		var v rawView
		if err := d.unmarshal(line, &v); err != nil {
			return nil, err
		}
		return d.rawRecord(v.Proto)
	case KindHeader:
		return nil, d.lineErr(errors.New("a header line must be the first line"))
	}
	return nil, d.fieldErr("kind", fmt.Errorf("unknown kind %q (want %s, %s, %s or %s)", kind, KindHeader, KindExchange, KindResult, KindRaw))
}

func (d *Decoder) rawRecord(p string) (*rprpb.Record, error) {
	rec := &rprpb.Record{}
	if err := unmarshalProto("protobuf", p, rec); err != nil {
		return nil, d.lineErr(err)
	}
	return rec, nil
}

func unmarshalProto(field, s string, m proto.Message) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fieldErrf(field, "bad base64: %v", err)
	}
	if err := proto.Unmarshal(b, m); err != nil {
		return fieldErrf(field, "bad protobuf: %v", err)
	}
	return nil
}

// readLine returns the next non-blank line without its line ending. The
// slice is valid until the next call.
func (d *Decoder) readLine() ([]byte, error) {
	for {
		if d.eof {
			return nil, io.EOF
		}
		line, err := d.readRaw()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
	}
}

// readRaw reads one line, ending in '\n' or at the end of input.
func (d *Decoder) readRaw() ([]byte, error) {
	d.buf = d.buf[:0]
	tooLong := false
	for {
		chunk, err := d.br.ReadSlice('\n')
		if !tooLong {
			if len(d.buf)+len(chunk) > d.maxLine {
				// Keep consuming up to the end of the line, so that the next
				// call starts on a line boundary.
				tooLong = true
				d.buf = d.buf[:0]
			} else {
				d.buf = append(d.buf, chunk...)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			d.eof = true
			if len(d.buf) == 0 && !tooLong {
				return nil, io.EOF
			}
		default:
			return nil, fmt.Errorf("jsonl: %s: read: %w", d.displayName(), err)
		}
		d.line++
		if tooLong {
			return nil, d.lineErr(fmt.Errorf("%w: over %d bytes", ErrLineTooLong, d.maxLine))
		}
		return d.buf, nil
	}
}

// kind reads the line's "kind" without decoding the rest, taking a fast path
// for the prefix the encoder writes.
func (d *Decoder) kind(line []byte) (string, error) {
	for _, k := range [...]string{KindExchange, KindResult, KindHeader, KindRaw} {
		if bytes.HasPrefix(line, []byte(`{"kind":"`+k+`",`)) {
			return k, nil
		}
	}
	var v struct {
		Kind *string `json:"kind"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		return "", d.jsonErr(err)
	}
	if v.Kind == nil {
		return "", d.fieldErr("kind", errors.New("missing"))
	}
	return *v.Kind, nil
}

// unmarshal decodes one line strictly: unknown fields and trailing data are
// errors.
func (d *Decoder) unmarshal(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return d.jsonErr(err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return d.lineErr(fmt.Errorf("unexpected data after the object at column %d", dec.InputOffset()+1))
	}
	return nil
}

// jsonErr turns encoding/json's errors into messages that name the field and
// column without Go type names.
func (d *Decoder) jsonErr(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return d.lineErr(fmt.Errorf("bad JSON at column %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: ")))
	case errors.As(err, &te):
		return d.fieldErr(te.Field, fmt.Errorf("want %s, got JSON %s", jsonType(te.Type.Kind().String()), te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return d.lineErr(errors.New("bad JSON: the object is cut off"))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return d.fieldErr(strings.Trim(f, `"`), errors.New("unknown field"))
	}
	return d.lineErr(errors.New(msg))
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "bool":
		return "a boolean"
	case "float64", "float32":
		return "a number"
	}
	return "an integer (" + goKind + ")"
}

func (d *Decoder) lineErr(err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &LineError{Name: d.name, Line: d.line, Field: fe.field, Err: fe.err}
	}
	return &LineError{Name: d.name, Line: d.line, Err: err}
}

func (d *Decoder) fieldErr(field string, err error) error {
	return &LineError{Name: d.name, Line: d.line, Field: field, Err: err}
}

func (d *Decoder) displayName() string {
	if d.name == "" {
		return "jsonl"
	}
	return d.name
}
