package replay

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/creds"
	"github.com/reprise-dev/reprise/harness/replay/rawproto"
	"github.com/reprise-dev/reprise/harness/replay/timeshift"
	"github.com/reprise-dev/reprise/recorders/redact"
)

// placeholderLen is the length of a redaction placeholder: the prefix and
// 24 hex digits.
const placeholderLen = len(redact.PlaceholderPrefix) + 24

// placeholders returns the distinct redaction placeholders inside s.
func placeholders(s string) []string {
	var out []string
	for rest := s; ; {
		i := strings.Index(rest, redact.PlaceholderPrefix)
		if i < 0 || len(rest)-i < placeholderLen {
			return out
		}
		if p := rest[i : i+placeholderLen]; redact.IsPlaceholder(p) {
			if !containsString(out, p) {
				out = append(out, p)
			}
			rest = rest[i+placeholderLen:]
			continue
		}
		rest = rest[i+len(redact.PlaceholderPrefix):]
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// credentials swaps every redaction placeholder still in the request (no
// live correlated value replaced it) for the provider's token, wherever
// redaction put one: header and cookie values, the path, the query, a form
// or JSON body, WebSocket text frames and gRPC message fields, the token
// escaped as its place needs. A provider error leaves the placeholder and
// is returned as a note for the Result; it names the placeholder, never a
// token.
func (o *outRequest) credentials(ctx context.Context, p creds.Provider, session string) []string {
	var phs []string
	add := func(s string) {
		for _, ph := range placeholders(s) {
			if !containsString(phs, ph) {
				phs = append(phs, ph)
			}
		}
	}
	for _, vs := range o.header {
		for _, v := range vs {
			add(v)
		}
	}
	add(o.path)
	add(o.rawQuery)
	body := o.body
	if !o.decoded {
		body, _ = decodeBody(o.body, o.header.Get("Content-Encoding"))
	}
	inBody := len(placeholders(string(body))) > 0
	add(string(body))
	for _, m := range o.msgs {
		if !m.compressed {
			add(string(m.data))
		}
	}
	if len(phs) == 0 {
		return nil
	}
	var notes []string
	var olds, toks []string
	for _, ph := range phs {
		tok, err := p.Token(ctx, session, ph)
		if err != nil {
			// The provider's own message stays out of the results file: a
			// command's stderr may echo a token.
			msg := "credentials: provider failed for " + ph
			if errors.Is(err, creds.ErrNoToken) {
				msg = "credentials: no token for " + ph
			}
			notes = append(notes, msg)
			continue
		}
		if tok != "" {
			olds, toks = append(olds, ph), append(toks, tok)
		}
	}
	if len(olds) == 0 {
		return notes
	}
	swap := func(s string, escape func(string) string) string {
		for i, ph := range olds {
			s = strings.ReplaceAll(s, ph, escape(toks[i]))
		}
		return s
	}
	raw := func(s string) string { return s }
	jsonString := func(s string) string { return string(jsonEscape(s)) }
	for _, vs := range o.header {
		for i, v := range vs {
			vs[i] = swap(v, raw)
		}
	}
	o.path = swap(o.path, url.PathEscape)
	o.rawQuery = swap(o.rawQuery, url.QueryEscape)
	if inBody && o.ensureDecoded() {
		switch ct := strings.ToLower(o.header.Get("Content-Type")); {
		case strings.Contains(ct, "x-www-form-urlencoded"):
			o.body = []byte(swap(string(o.body), url.QueryEscape))
		case strings.Contains(ct, "json") || ct == "" && json.Valid(o.body):
			o.body = []byte(swap(string(o.body), jsonString))
		default:
			o.body = []byte(swap(string(o.body), raw))
		}
	}
	for i := range o.msgs {
		m := &o.msgs[i]
		switch {
		case m.compressed:
		case o.proto == rprpb.Protocol_PROTOCOL_GRPC:
			if out, _, err := rawproto.ReplaceAllEach(m.data, olds, toks); err == nil {
				m.data = out
			}
		case m.opcode == 1: // a text frame: JSON, or text
			esc := raw
			if json.Valid(m.data) {
				esc = jsonString
			}
			m.data = []byte(swap(string(m.data), esc))
		}
	}
	return notes
}

// timeShift moves the timestamps of JSON request bodies.
type timeShift struct {
	delta    time.Duration
	from, to time.Time
}

// apply shifts the body when it is JSON (by its content type, or by its
// first byte when it has none).
func (s *timeShift) apply(o *outRequest) {
	if len(o.body) == 0 || o.truncated {
		return
	}
	ct := strings.ToLower(o.header.Get("Content-Type"))
	if ct != "" && !strings.Contains(ct, "json") {
		return
	}
	// Decode into a copy: a body with no time to shift goes out exactly as
	// recorded, content coding included.
	body, ok := o.body, o.decoded
	if !ok {
		if body, ok = decodeBody(o.body, o.header.Get("Content-Encoding")); !ok {
			return
		}
	}
	if out, n := timeshift.JSON(body, s.delta, s.from, s.to); n > 0 {
		o.body, o.decoded = out, true
		o.header.Del("Content-Encoding")
	}
}
