package session

import (
	"net/http"
	"strings"
)

// Request is what extractors look at: the request headers (gRPC metadata
// arrives as HTTP/2 headers, so Header covers it) and the client address.
type Request struct {
	Header     http.Header
	RemoteAddr string
}

// Extractor derives a session key from a request.
type Extractor interface {
	// Name identifies the extractor in recordings, as it is spelled in a
	// chain spec ("header:x-session-id", "jwt-sub", ...).
	Name() string
	// Extract returns the key, and false when the request carries none.
	Extract(r Request) (key string, ok bool)
}

// Chain tries extractors in order.
type Chain []Extractor

// Key returns the key of the first extractor that yields one, and that
// extractor's name as the source. It returns ("", "") when none yields.
func (c Chain) Key(r Request) (key, source string) {
	for _, e := range c {
		if k, ok := e.Extract(r); ok {
			return k, e.Name()
		}
	}
	return "", ""
}

// AlwaysSensitive are the headers whose values KeyRedacted always hides.
var AlwaysSensitive = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// KeyRedacted is Key for keys that will be written to disk: it passes the
// key through hide (typically redact.Redactor.Placeholder) when the key may
// be a secret. The rule:
//
//   - cookie: keys are always hidden (session cookies are credentials);
//   - header: and grpc-metadata: keys are hidden when the header is in
//     AlwaysSensitive or in sensitiveHeaders (case-insensitive);
//   - jwt-sub and client-addr keys are kept (a subject or an address is an
//     identifier, not a credential);
//   - keys from any other Extractor are hidden, since nothing is known
//     about them.
//
// Hiding with a stable keyed function keeps sessions grouped: the same
// cookie gives the same hidden key, equal to its placeholder in the
// redacted Cookie header.
func (c Chain) KeyRedacted(r Request, hide func(string) string, sensitiveHeaders ...string) (key, source string) {
	for _, e := range c {
		k, ok := e.Extract(r)
		if !ok {
			continue
		}
		if mustHide(e, sensitiveHeaders) {
			k = hide(k)
		}
		return k, e.Name()
	}
	return "", ""
}

func mustHide(e Extractor, sensitive []string) bool {
	var header string
	switch e := e.(type) {
	case cookieExtractor:
		return true
	case jwtSubExtractor, clientAddrExtractor:
		return false
	case headerExtractor:
		header = e.header
	case grpcMetadataExtractor:
		header = e.key
	default:
		return true
	}
	for _, s := range AlwaysSensitive {
		if strings.EqualFold(s, header) {
			return true
		}
	}
	for _, s := range sensitive {
		if strings.EqualFold(strings.TrimSpace(s), header) {
			return true
		}
	}
	return false
}

// String returns the chain as a spec that Parse reads back.
func (c Chain) String() string {
	names := make([]string, len(c))
	for i, e := range c {
		names[i] = e.Name()
	}
	return strings.Join(names, ",")
}

// DefaultSpec is the chain the recording proxy uses unless told otherwise.
// See the package documentation for what each element does.
const DefaultSpec = "header:X-Reprise-Session,header:X-Session-Id,jwt-sub,cookie:session,grpc-metadata:x-session-id,client-addr"

// Default returns the chain of DefaultSpec.
func Default() Chain {
	c, err := Parse(DefaultSpec)
	if err != nil {
		panic("session: DefaultSpec does not parse: " + err.Error())
	}
	return c
}
