package replay

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/replay/creds"
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

// credentials swaps every redaction placeholder still in a header or
// cookie value (no live correlated value replaced it) for the provider's
// token. A provider error leaves the placeholder and is returned as a note
// for the Result; it names the placeholder, never a token.
func (o *outRequest) credentials(ctx context.Context, p creds.Provider, session string) []string {
	var notes []string
	tokens := map[string]string{}
	for name, vs := range o.header {
		for i, v := range vs {
			for _, ph := range placeholders(v) {
				tok, seen := tokens[ph]
				if !seen {
					var err error
					tok, err = p.Token(ctx, session, ph)
					if err != nil {
						tok = ""
						// The provider's own message stays out of the
						// results file: a command's stderr may echo a token.
						msg := "credentials: provider failed for " + ph
						if errors.Is(err, creds.ErrNoToken) {
							msg = "credentials: no token for " + ph
						}
						notes = append(notes, msg)
					}
					tokens[ph] = tok
				}
				if tok != "" {
					vs[i] = strings.ReplaceAll(vs[i], ph, tok)
				}
			}
		}
		o.header[name] = vs
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
