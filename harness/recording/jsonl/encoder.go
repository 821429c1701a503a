package jsonl

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Encoder writes a header and records as JSON Lines. Each call writes one
// complete line with a single Write, so a reader of a pipe never sees half a
// record. Wrap w in a bufio.Writer for throughput. It is not safe for
// concurrent use.
type Encoder struct {
	enc    *json.Encoder
	anchor int64
	view   exchangeView
	result resultView
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	enc := json.NewEncoder(w)
	// Bodies are full of <, > and &; escaping them would only hurt reading.
	enc.SetEscapeHTML(false)
	return &Encoder{enc: enc}
}

// EncodeHeader writes the header line. Call it first: its clock anchor turns
// the records' offsets into the wall times written beside them.
func (e *Encoder) EncodeHeader(h *rprpb.FileHeader) error {
	v := newHeaderView(h)
	if h != nil && headerHasUnknown(h) {
		p, err := marshalProto(h)
		if err != nil {
			return err
		}
		v.Proto = p
	}
	e.anchor = h.GetClock().GetAnchorUnixNano()
	if err := e.enc.Encode(v); err != nil {
		return fmt.Errorf("jsonl: write header: %w", err)
	}
	return nil
}

// Encode writes one record as a line.
func (e *Encoder) Encode(rec *rprpb.Record) error {
	if ex := rec.GetExchange(); ex != nil {
		return e.encodeExchange(rec, ex)
	}
	if r := rec.GetResult(); r != nil {
		return e.encodeResult(rec, r)
	}
	p, err := marshalProto(rec)
	if err != nil {
		return err
	}
	return e.write(&rawView{Kind: KindRaw, Proto: p})
}

func (e *Encoder) encodeExchange(rec *rprpb.Record, ex *rprpb.Exchange) error {
	e.view.fill(ex, e.anchor)
	if exchangeHasUnknown(rec, ex) {
		p, err := marshalProto(rec)
		if err != nil {
			return err
		}
		e.view.Proto = p
	}
	err := e.write(&e.view)
	e.view = exchangeView{} // drop references to the record
	return err
}

func (e *Encoder) encodeResult(rec *rprpb.Record, r *rprpb.Result) error {
	// A view that cannot carry a value (a NaN ratio) travels with the
	// protobuf, as a record with newer fields does.
	if !e.result.fill(r, e.anchor) || resultHasUnknown(rec, r) {
		p, err := marshalProto(rec)
		if err != nil {
			return err
		}
		e.result.Proto = p
	}
	err := e.write(&e.result)
	e.result = resultView{}
	return err
}

func (e *Encoder) write(v any) error {
	if err := e.enc.Encode(v); err != nil {
		return fmt.Errorf("jsonl: write record: %w", err)
	}
	return nil
}

func marshalProto(m proto.Message) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("jsonl: encode protobuf: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// headerHasUnknown reports whether the header holds fields this build's schema
// does not know, which the view would drop.
func headerHasUnknown(h *rprpb.FileHeader) bool {
	return unknown(h) || unknown(h.Redaction) || unknown(h.Clock)
}

// exchangeHasUnknown is headerHasUnknown for a record. It visits each message
// of the schema by hand: going through protoreflect's Range costs a third of
// the encoder's time. TestFixtureCoversSchema fails when the schema gains a
// message this walk (and the view) would miss.
func exchangeHasUnknown(rec *rprpb.Record, ex *rprpb.Exchange) bool {
	if unknown(rec) || unknown(ex) {
		return true
	}
	if r := ex.Request; r != nil && (unknown(r) || unknown(r.Body) || headersUnknown(r.Headers) || headersUnknown(r.Trailers)) {
		return true
	}
	if r := ex.Response; r != nil && (unknown(r) || unknown(r.Body) || headersUnknown(r.Headers) || headersUnknown(r.Trailers)) {
		return true
	}
	if g := ex.Grpc; g != nil && (unknown(g) || messagesUnknown(g.Messages)) {
		return true
	}
	if w := ex.Websocket; w != nil && (unknown(w) || messagesUnknown(w.Messages)) {
		return true
	}
	return false
}

// unknown takes the concrete pointer types so that a nil message is nil.
func unknown[M interface {
	comparable
	ProtoReflect() protoreflect.Message
}](m M) bool {
	var zero M
	return m != zero && len(m.ProtoReflect().GetUnknown()) > 0
}

func headersUnknown(hs []*rprpb.Header) bool {
	for _, h := range hs {
		if unknown(h) {
			return true
		}
	}
	return false
}

func messagesUnknown(ms []*rprpb.Message) bool {
	for _, m := range ms {
		if unknown(m) {
			return true
		}
	}
	return false
}
