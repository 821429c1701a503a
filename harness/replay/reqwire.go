package replay

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Field numbers of rprpb.Exchange.request and of the rprpb.Request,
// Header and Body fields rebuild reads (see recording.proto).
const (
	exchangeRequestField = 11

	requestMethodField  = 1
	requestPathField    = 4
	requestQueryField   = 5
	requestHeadersField = 7
	requestBodyField    = 8

	headerNameField   = 1
	headerValuesField = 2

	bodyDataField      = 1
	bodyTruncatedField = 2
)

// errTwoRequests marks a stored exchange whose request field occurs more
// than once: proto would merge them, decodeStored leaves that to it.
var errTwoRequests = errors.New("request field repeated")

// decodeStored decodes a stored exchange but for its request, which it
// returns rebuilt (rebuildStored) from the record's bytes. Decoding the
// request into messages made a message per header and a copy of every
// string and of the body, which rebuild then copied again: over a
// kilobyte per send for a request of five headers, and what a send
// allocates sets how often the GC runs.
func decodeStored(b []byte) (*rprpb.Exchange, *outRequest, error) {
	ex := &rprpb.Exchange{}
	merge := proto.UnmarshalOptions{Merge: true}
	var req []byte
	found, from := false, 0
	for i := 0; i < len(b); {
		num, typ, n := protowire.ConsumeTag(b[i:])
		if n < 0 {
			return nil, nil, fmt.Errorf("byte %d: %w", i, protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[i+n:])
		if m < 0 {
			return nil, nil, fmt.Errorf("field %d at byte %d: %w", num, i, protowire.ParseError(m))
		}
		if num == exchangeRequestField && typ == protowire.BytesType {
			if found {
				return nil, nil, errTwoRequests
			}
			if err := merge.Unmarshal(b[from:i], ex); err != nil {
				return nil, nil, err
			}
			req, _ = protowire.ConsumeBytes(b[i+n:])
			found, from = true, i+n+m
		}
		i += n + m
	}
	if err := merge.Unmarshal(b[from:], ex); err != nil {
		return nil, nil, err
	}
	o, err := rebuildStored(ex, req)
	if err != nil {
		return nil, nil, fmt.Errorf("request: %w", err)
	}
	return ex, o, nil
}

// rebuildStored is rebuild for an exchange whose request is still in its
// marshalled form, req (nil: none).
func rebuildStored(ex *rprpb.Exchange, req []byte) (*outRequest, error) {
	o := &outRequest{}
	if err := o.readRequest(req); err != nil {
		return nil, err
	}
	o.finish(ex)
	return o, nil
}

// readRequest reads a marshalled rprpb.Request into o as rebuild reads a
// decoded one, with proto's semantics: a field of the wrong wire type is
// skipped, a string or a bool that occurs twice keeps the last, a Body
// that does is merged.
func (o *outRequest) readRequest(b []byte) error {
	// Headers first, counted, so that the map is made once.
	n := 0
	if err := fields(b, func(num protowire.Number, typ protowire.Type, _ []byte, _ uint64) error {
		if num == requestHeadersField && typ == protowire.BytesType {
			n++
		}
		return nil
	}); err != nil {
		return err
	}
	o.header = make(http.Header, n)
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case requestMethodField:
			o.method = string(v)
		case requestPathField:
			o.path = string(v)
		case requestQueryField:
			o.rawQuery = string(v)
		case requestHeadersField:
			return o.readHeader(v)
		case requestBodyField:
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
				switch {
				case num == bodyDataField && typ == protowire.BytesType:
					o.body = append([]byte(nil), v...)
				case num == bodyTruncatedField && typ == protowire.VarintType:
					o.truncated = x != 0
				}
				return nil
			})
		}
		return nil
	})
}

// readHeader adds a marshalled rprpb.Header's values under its name, as
// rebuild does: pseudo-headers and hop-by-hop headers are left out.
func (o *outRequest) readHeader(b []byte) error {
	var name []byte
	if err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == headerNameField && typ == protowire.BytesType {
			name = v
		}
		return nil
	}); err != nil {
		return err
	}
	if len(name) > 0 && name[0] == ':' || isHopHeader(name) {
		return nil
	}
	key := textproto.CanonicalMIMEHeaderKey(string(name))
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == headerValuesField && typ == protowire.BytesType {
			o.header[key] = append(o.header[key], string(v))
		}
		return nil
	})
}

// isHopHeader is hopHeaders[strings.ToLower(name)], without the lowered
// copy for an ASCII name.
func isHopHeader(name []byte) bool {
	for _, c := range name {
		if c >= utf8.RuneSelf {
			return hopHeaders[strings.ToLower(string(name))]
		}
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return false // longer than any hop header
	}
	low := buf[:len(name)]
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	return hopHeaders[string(low)]
}

// fields calls fn with each field of a marshalled message: its number,
// its wire type and its value (v for a length-delimited field, x for a
// varint); groups and fixed-size fields are skipped.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var err error
		switch typ {
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				err = fn(num, typ, v, 0)
			}
		case protowire.VarintType:
			var x uint64
			x, n = protowire.ConsumeVarint(b)
			if n >= 0 {
				err = fn(num, typ, nil, x)
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
