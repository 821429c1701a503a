package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// PlaceholderPrefix starts every placeholder. The rest is placeholderHexLen
// lowercase hex characters of HMAC-SHA256(key, secret).
const PlaceholderPrefix = "rpr-redacted-"

// Scheme is the RedactionPolicy.scheme this package writes.
const Scheme = "hmac-sha256"

const (
	// placeholderHexLen is 96 bits of the MAC: collisions between distinct
	// secrets of one recording are negligible, and placeholders stay short.
	placeholderHexLen = 24
	placeholderLen    = len(PlaceholderPrefix) + placeholderHexLen
	// randomKeyLen is the size of the key New draws when Policy.Key is nil.
	randomKeyLen = 32
	// MinKeyLen is the shortest key New accepts. The key is what stops
	// anyone holding a recording from testing guesses of low-entropy secrets
	// (e-mail addresses, PINs) against placeholders.
	MinKeyLen = 16
	// keyIDLabel domain-separates the key fingerprint from placeholders.
	keyIDLabel = "reprise-key-id"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrShortKey means Policy.Key is set but shorter than MinKeyLen.
	ErrShortKey = errors.New("redaction key too short")
	// ErrBadPolicy means a name in a Policy list is empty.
	ErrBadPolicy = errors.New("bad redaction policy")
)

// alwaysHeaders are redacted whatever the policy says, each by its own rule.
var alwaysHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie"}

// Policy says what is secret. Matching of every name is case-insensitive.
type Policy struct {
	// Headers whose whole value is secret, beyond the always-on
	// Authorization, Proxy-Authorization, Cookie and Set-Cookie.
	Headers []string
	// QueryParams whose values are secret, in the URL query and in
	// application/x-www-form-urlencoded bodies.
	QueryParams []string
	// JSONFields are object keys, at any depth, whose string or number values
	// are secret. They also apply to form and multipart field names.
	JSONFields []string
	// Key is the HMAC key. Nil means a fresh random 32-byte key, which makes
	// placeholders stable within one recording only.
	Key []byte
}

// DefaultPolicy returns the policy the recorders use unless told otherwise.
// Each call returns fresh slices.
func DefaultPolicy() Policy {
	return Policy{
		Headers: []string{"X-Api-Key", "X-Auth-Token", "Proxy-Authorization", "X-Amz-Security-Token"},
		QueryParams: []string{
			"token", "access_token", "api_key", "apikey", "key", "secret", "password", "sig", "signature",
			// Pre-signed S3 URLs carry their credentials in the query.
			"x-amz-security-token", "x-amz-signature",
		},
		JSONFields: []string{
			"password", "token", "access_token", "refresh_token", "id_token", "secret",
			"client_secret", "api_key", "apikey", "email",
		},
	}
}

// Redactor replaces secrets by keyed, stable placeholders. It is safe for
// concurrent use.
type Redactor struct {
	key     []byte
	keyID   string
	macs    sync.Pool
	headers []string // always-on first, then the policy's, deduplicated

	wholeHeaders fieldSet // headers whose whole value is secret
	queryFields  fieldSet
	jsonFields   fieldSet
	formFields   fieldSet // query ∪ JSON names, for form and multipart bodies

	policy Policy // copies of the lists, for Policy()
}

// New returns a Redactor for p. It fails when the key is too short or a
// list holds an empty name.
func New(p Policy) (*Redactor, error) {
	if err := checkNames("headers", p.Headers); err != nil {
		return nil, err
	}
	if err := checkNames("query_params", p.QueryParams); err != nil {
		return nil, err
	}
	if err := checkNames("json_fields", p.JSONFields); err != nil {
		return nil, err
	}
	key := append([]byte(nil), p.Key...)
	switch {
	case p.Key == nil:
		key = make([]byte, randomKeyLen)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("redact: drawing a random key: %w", err)
		}
	case len(key) < MinKeyLen:
		return nil, fmt.Errorf("redact: key of %d bytes, want at least %d: %w", len(key), MinKeyLen, ErrShortKey)
	}
	r := &Redactor{
		key:          key,
		keyID:        keyID(key),
		wholeHeaders: newFieldSet(p.Headers),
		queryFields:  newFieldSet(p.QueryParams),
		jsonFields:   newFieldSet(p.JSONFields),
		formFields:   newFieldSet(p.QueryParams, p.JSONFields),
		policy: Policy{
			Headers:     append([]string(nil), p.Headers...),
			QueryParams: append([]string(nil), p.QueryParams...),
			JSONFields:  append([]string(nil), p.JSONFields...),
		},
	}
	r.macs.New = func() any { return hmac.New(sha256.New, r.key) }
	seen := map[string]bool{}
	for _, h := range append(append([]string(nil), alwaysHeaders...), p.Headers...) {
		if l := strings.ToLower(strings.TrimSpace(h)); !seen[l] {
			seen[l] = true
			r.headers = append(r.headers, strings.TrimSpace(h))
		}
	}
	return r, nil
}

func checkNames(field string, names []string) error {
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("redact: policy %s[%d]: empty name: %w", field, i, ErrBadPolicy)
		}
	}
	return nil
}

// keyID fingerprints the key with a domain-separated hash, so the header can
// tell recordings apart without revealing anything that produces placeholders.
func keyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte(keyIDLabel))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Placeholder returns the placeholder for secret: equal secrets give equal
// placeholders under one key, and different keys give different ones.
func (r *Redactor) Placeholder(secret string) string {
	mac := r.macs.Get().(hash.Hash)
	mac.Reset()
	io.WriteString(mac, secret)
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])
	r.macs.Put(mac)
	var out [placeholderLen]byte
	copy(out[:], PlaceholderPrefix)
	hex.Encode(out[len(PlaceholderPrefix):], sum[:placeholderHexLen/2])
	return string(out[:])
}

// IsPlaceholder reports whether s is exactly one placeholder. The rules leave
// such values alone, so redacting twice changes nothing.
func IsPlaceholder(s string) bool {
	if len(s) != placeholderLen || !strings.HasPrefix(s, PlaceholderPrefix) {
		return false
	}
	for _, c := range []byte(s[len(PlaceholderPrefix):]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hide is Placeholder for the rules: empty values and placeholders stay as
// they are, since neither holds a secret.
func (r *Redactor) hide(secret string) string {
	if secret == "" || IsPlaceholder(secret) {
		return secret
	}
	return r.Placeholder(secret)
}

// Policy describes the redaction for the recording's file header. It never
// holds the key, only a fingerprint of it.
func (r *Redactor) Policy() *rprpb.RedactionPolicy {
	return &rprpb.RedactionPolicy{
		Scheme:            Scheme,
		KeyId:             r.keyID,
		PlaceholderPrefix: PlaceholderPrefix,
		Headers:           append([]string(nil), r.headers...),
		QueryParams:       append([]string(nil), r.policy.QueryParams...),
		JsonFields:        append([]string(nil), r.policy.JSONFields...),
	}
}

// Exchange redacts ex in place: headers and trailers both ways (gRPC metadata
// included), the request query, both bodies, WebSocket text frames and the
// session key when it came from a secret. gRPC message bytes are left alone.
func (r *Redactor) Exchange(ex *rprpb.Exchange) {
	if ex == nil {
		return
	}
	r.session(ex)
	if req := ex.GetRequest(); req != nil {
		r.headerList(req.Headers)
		r.headerList(req.Trailers)
		req.RawQuery = r.Query(req.RawQuery)
		r.Body(firstHeader(req.Headers, "Content-Type"), headerValue(req.Headers, "Content-Encoding"), req.Body)
	}
	if resp := ex.GetResponse(); resp != nil {
		r.headerList(resp.Headers)
		r.headerList(resp.Trailers)
		r.Body(firstHeader(resp.Headers, "Content-Type"), headerValue(resp.Headers, "Content-Encoding"), resp.Body)
	}
	if ws := ex.GetWebsocket(); ws != nil {
		for _, m := range ws.Messages {
			r.wsMessage(m)
		}
	}
}

// session hides a session key taken from a cookie or a secret header. The
// proxy is expected to have done so already (session.Chain.KeyRedacted);
// this is the second line, and placeholders pass through unchanged.
func (r *Redactor) session(ex *rprpb.Exchange) {
	kind, name, _ := strings.Cut(ex.SessionSource, ":")
	switch kind {
	case "cookie":
		ex.Session = r.hide(ex.Session)
	case "header", "grpc-metadata":
		if r.SensitiveHeader(name) {
			ex.Session = r.hide(ex.Session)
		}
	}
}

// SensitiveHeaders lists the headers whose values the Redactor treats as
// secret: the always-on ones followed by Policy.Headers. Pass it to
// session.Chain.KeyRedacted so both agree.
func (r *Redactor) SensitiveHeaders() []string { return append([]string(nil), r.headers...) }

// SensitiveHeader reports whether the value of header name is secret.
func (r *Redactor) SensitiveHeader(name string) bool {
	l := strings.ToLower(strings.TrimSpace(name))
	return r.wholeHeaders.has(l) || isAlwaysHeader(l)
}

func isAlwaysHeader(lower string) bool {
	switch lower {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	return false
}

func (r *Redactor) headerList(hs []*rprpb.Header) {
	for _, h := range hs {
		if h != nil {
			h.Values = r.Header(h.Name, h.Values)
		}
	}
}

func firstHeader(hs []*rprpb.Header, name string) string {
	for _, h := range hs {
		if h != nil && strings.EqualFold(h.Name, name) && len(h.Values) > 0 {
			return h.Values[0]
		}
	}
	return ""
}

// headerValue joins every value of the named header, so a Content-Encoding
// split over several fields still lists every coding.
func headerValue(hs []*rprpb.Header, name string) string {
	var vals []string
	for _, h := range hs {
		if h != nil && strings.EqualFold(h.Name, name) {
			vals = append(vals, h.Values...)
		}
	}
	return strings.Join(vals, ", ")
}

// wsMessage redacts a WebSocket frame. Text frames are JSON-rewritten when
// they parse and byte-scanned otherwise; continuation frames (opcode 0) are
// byte-scanned. Compressed frames (permessage-deflate) cannot be decoded one
// by one when the context carries over, so they are dropped.
func (r *Redactor) wsMessage(m *rprpb.Message) {
	if m == nil || len(m.Data) == 0 {
		return
	}
	if m.Compressed {
		m.Data, m.Truncated = nil, true
		return
	}
	switch m.Opcode {
	case 1:
		if out, ok := r.rewriteJSON(m.Data, r.jsonFields); ok {
			m.Data = out
			return
		}
		m.Data = r.scanFields(m.Data)
	case 0:
		m.Data = r.scanFields(m.Data)
	}
}
