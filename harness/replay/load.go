package replay

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// LoadExchanges reads the exchanges a plan replays from a record stream
// (recording.Reader.All yields one), keeping only those, so a window of a
// long recording costs the memory of the window.
//
// Each is kept slim: the request whole, since it is rebuilt; of the
// response, everything only for the exchanges whose responses issue
// correlated values (the sources of the plan's correlations), and for the
// others only what the response diff needs: the status, the body's size
// and truncated flag, and a summary of its bytes (digest and JSON shape
// hash, computed here) in place of the bytes themselves.
func LoadExchanges(ctx context.Context, seq iter.Seq2[*rprpb.Record, error], p *plan.Plan) (Exchanges, error) {
	want := make(map[uint64]bool, len(p.Nodes)) // exchange id → its response is a source
	for _, n := range p.Nodes {
		want[n.ID] = false
	}
	for _, c := range p.Correlations {
		if c.Source.Node >= 0 && c.Source.Node < len(p.Nodes) {
			want[p.Nodes[c.Source.Node].ID] = true
		}
	}
	out := make(Exchanges, len(p.Nodes))
	in := interner{}
	for rec, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("replay: load exchanges: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ex := rec.GetExchange()
		if ex == nil {
			continue
		}
		source, ok := want[ex.GetId()]
		if !ok {
			continue
		}
		if !source {
			slim(ex)
		}
		in.request(ex)
		out[ex.GetId()] = ex
	}
	for i, n := range p.Nodes {
		if out[n.ID] == nil {
			return nil, fmt.Errorf("%w: node %d, exchange %d", ErrMissingExchange, i, n.ID)
		}
	}
	return out, nil
}

// slim drops from an exchange what the executor never reads when its
// response issues no correlated value: the response's headers, trailers and
// body bytes (their summary is kept, see bodySummary), the server's
// message payloads (their sizes are kept), and descriptive fields.
func slim(ex *rprpb.Exchange) {
	ex.ClientAddr, ex.SessionSource, ex.Error = "", "", ""
	if resp := ex.GetResponse(); resp != nil {
		body := resp.GetBody()
		if body == nil {
			body = &rprpb.Body{}
		}
		sum := summarizeBody(resp)
		size := body.GetSize()
		if size == 0 {
			size = int64(len(body.GetData()))
		}
		slimBody := &rprpb.Body{Size: size, Truncated: body.GetTruncated()}
		setBodySummary(slimBody, sum)
		ex.Response = &rprpb.Response{Status: resp.GetStatus(), Body: slimBody}
	}
	var msgs []*rprpb.Message
	if g := ex.GetGrpc(); g != nil {
		msgs = g.GetMessages()
	}
	if w := ex.GetWebsocket(); w != nil {
		msgs = append(msgs, w.GetMessages()...)
	}
	for _, m := range msgs {
		if m.GetDirection() == rprpb.Direction_DIRECTION_RESPONSE {
			if m.GetSize() == 0 {
				m.Size = int64(len(m.GetData()))
			}
			m.Data = nil
		}
	}
}

// interner shares the equal strings of the exchanges kept (sessions,
// header names and values repeat across a recording), up to maxInterned
// distinct ones of at most maxInternLen bytes; it lives while they load.
type interner map[string]string

const (
	maxInterned  = 1 << 16
	maxInternLen = 256
)

func (in interner) str(s string) string {
	if len(s) > maxInternLen {
		return s
	}
	if v, ok := in[s]; ok {
		return v
	}
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// request interns an exchange's session and request headers and drops an
// empty request body message.
func (in interner) request(ex *rprpb.Exchange) {
	ex.Session = in.str(ex.GetSession())
	req := ex.GetRequest()
	if req == nil {
		return
	}
	for _, h := range req.GetHeaders() {
		h.Name = in.str(h.GetName())
		for i, v := range h.GetValues() {
			h.Values[i] = in.str(v)
		}
	}
	if b := req.GetBody(); b != nil && len(b.GetData()) == 0 && b.GetSize() == 0 && !b.GetTruncated() {
		req.Body = nil
	}
}

// bodySummaryField numbers the field, among a slimmed rprpb.Body's unknown
// fields, that holds the summary of the bytes it no longer holds: the
// largest field number, which the schema will never use. It lives only in
// memory, in this process (the digest is seeded per process).
const bodySummaryField protowire.Number = protowire.MaxValidNumber

// setBodySummary records rb in b: flags (1 decoded, 2 shape ok), size,
// digest and shape.
func setBodySummary(b *rprpb.Body, rb recBody) {
	v := make([]byte, 0, 1+binary.MaxVarintLen64+16)
	var flags byte
	if rb.decoded {
		flags |= 1
	}
	if rb.shapeOK {
		flags |= 2
	}
	v = append(v, flags)
	v = protowire.AppendVarint(v, uint64(rb.size))
	v = protowire.AppendFixed64(v, rb.digest)
	v = protowire.AppendFixed64(v, rb.shape)
	raw := protowire.AppendTag(nil, bodySummaryField, protowire.BytesType)
	raw = protowire.AppendBytes(raw, v)
	b.ProtoReflect().SetUnknown(raw)
}

// bodySummary returns the summary setBodySummary recorded in b, if any.
func bodySummary(b *rprpb.Body) (recBody, bool) {
	if b == nil {
		return recBody{}, false
	}
	raw := b.ProtoReflect().GetUnknown()
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return recBody{}, false
		}
		raw = raw[n:]
		if num != bodySummaryField || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, raw); n < 0 {
				return recBody{}, false
			}
			raw = raw[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(raw)
		if n < 0 || len(v) < 1 {
			return recBody{}, false
		}
		flags := v[0]
		size, n := protowire.ConsumeVarint(v[1:])
		if n < 0 || len(v[1+n:]) != 16 {
			return recBody{}, false
		}
		rest := v[1+n:]
		digest, _ := protowire.ConsumeFixed64(rest)
		shape, _ := protowire.ConsumeFixed64(rest[8:])
		return recBody{decoded: flags&1 != 0, shapeOK: flags&2 != 0, size: int(size), digest: digest, shape: shape}, true
	}
	return recBody{}, false
}
