package session

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// maxJWTPayload bounds the payload decoded per request; real tokens are a
// few hundred bytes.
const maxJWTPayload = 16 << 10

// JWTSub takes the key from the "sub" claim of a JWT carried in header,
// "Bearer <jwt>" or the bare token. The token is decoded, not verified: the
// key only groups requests into sessions. An empty header means
// Authorization.
func JWTSub(header string) Extractor {
	if header == "" {
		header = "Authorization"
	}
	return jwtSubExtractor{header: http.CanonicalHeaderKey(header)}
}

type jwtSubExtractor struct{ header string }

func (e jwtSubExtractor) Name() string {
	if e.header == "Authorization" {
		return "jwt-sub"
	}
	return "jwt-sub:" + strings.ToLower(e.header)
}

func (e jwtSubExtractor) Extract(r Request) (string, bool) {
	for _, v := range values(r.Header, e.header) {
		if sub, ok := Subject(v); ok {
			return sub, true
		}
	}
	return "", false
}

// Subject returns the "sub" claim of a JWT given as "Bearer <jwt>" or bare,
// without verifying it. A string claim is returned as is, a number claim as
// its JSON text. Malformed tokens, other auth schemes and missing or empty
// claims give false.
func Subject(value string) (string, bool) {
	token := strings.TrimSpace(value)
	if scheme, rest, ok := strings.Cut(token, " "); ok {
		if !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		token = strings.TrimSpace(rest)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > maxJWTPayload {
		return "", false
	}
	payload, ok := decodeSegment(parts[1])
	if !ok {
		return "", false
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", false
	}
	raw, ok := claims["sub"]
	if !ok {
		return "", false
	}
	var sub string
	if err := json.Unmarshal(raw, &sub); err == nil {
		return sub, sub != ""
	}
	var num json.Number
	if err := json.Unmarshal(raw, &num); err == nil {
		return num.String(), true
	}
	return "", false
}

// decodeSegment decodes base64url without padding as JWTs use it, and
// tolerates padding and the standard alphabet, which some issuers emit.
func decodeSegment(s string) ([]byte, bool) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}
