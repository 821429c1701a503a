package replay

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// diffResponse compares a replayed response with the recorded one: status
// class, JSON shape (keys and value types, never values) and body size.
// recorded summarises the recorded body (recordedBody); it is called only
// when the shapes must be compared.
func diffResponse(rec *rprpb.Exchange, recorded func() *recBody, status int, live liveResponse, size int64) *rprpb.ResponseDiff {
	resp := rec.GetResponse()
	d := &rprpb.ResponseDiff{}
	if resp.GetStatus() != 0 {
		d.StatusClassChanged = resp.GetStatus()/100 != int32(status/100)
	}
	recSize := resp.GetBody().GetSize()
	if recSize == 0 {
		recSize = int64(len(resp.GetBody().GetData()))
	}
	if recSize > 0 && size > 0 {
		d.BodySizeRatio = float64(size) / float64(recSize)
	}
	if resp.GetBody().GetTruncated() || live.body == nil {
		return d
	}
	rb := recorded()
	if !rb.decoded {
		return d
	}
	if len(live.body) == rb.size && bodyDigest(live.body) == rb.digest {
		return d // the same bytes: the same shape
	}
	ls, ok := shapeHash(live.body)
	if ok != rb.shapeOK || (ok && ls != rb.shape) {
		d.JsonShapeChanged = true
	}
	return d
}

// recBody is what diffResponse needs of a recorded response body, computed
// once per exchange.
type recBody struct {
	decoded bool   // the content coding could be removed
	size    int    // decoded length
	digest  uint64 // bodyDigest of the decoded body
	shape   uint64 // shapeHash of the decoded body, when shapeOK
	shapeOK bool
}

// summarizeBody summarises a recorded response body; a truncated one is
// never compared.
func summarizeBody(resp *rprpb.Response) recBody {
	if resp.GetBody().GetTruncated() {
		return recBody{}
	}
	b, ok := decodeBody(resp.GetBody().GetData(), firstHeader(resp.GetHeaders(), "content-encoding"))
	if !ok {
		return recBody{}
	}
	rb := recBody{decoded: true, size: len(b), digest: bodyDigest(b)}
	rb.shape, rb.shapeOK = shapeHash(b)
	return rb
}

// jsonShape is a canonical description of a JSON document's keys and value
// types; an array's shape is the set of its elements' shapes.
func jsonShape(data []byte) (string, bool) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", false
	}
	var b strings.Builder
	shape(&b, doc)
	return b.String(), true
}

func shape(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for _, k := range keys {
			b.WriteString(k)
			b.WriteByte(':')
			shape(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case []any:
		set := map[string]bool{}
		for _, e := range x {
			var eb strings.Builder
			shape(&eb, e)
			set[eb.String()] = true
		}
		elems := make([]string, 0, len(set))
		for e := range set {
			elems = append(elems, e)
		}
		slices.Sort(elems)
		b.WriteByte('[')
		b.WriteString(strings.Join(elems, "|"))
		b.WriteByte(']')
	case string:
		b.WriteString("s")
	case json.Number:
		b.WriteString("n")
	case bool:
		b.WriteString("b")
	case nil:
		b.WriteString("null")
	}
}
