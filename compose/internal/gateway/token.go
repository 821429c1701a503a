package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token errors; all of them answer 401.
var (
	ErrNoToken      = errors.New("no bearer token or session cookie")
	ErrBadToken     = errors.New("malformed token")
	ErrBadSignature = errors.New("bad token signature")
	ErrExpired      = errors.New("token expired")
)

// maxTokenLen bounds the work done on a hostile Authorization header.
const maxTokenLen = 4096

var (
	b64         = base64.RawURLEncoding
	tokenHeader = b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
)

type claims struct {
	Sub string `json:"sub"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// tokens issues and verifies HS256 JWTs. They are real JWTs so that the
// recording proxy's jwt-sub session extractor and the replayer's token
// re-correlation meet what real platforms send.
type tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

func (t *tokens) sign(signingInput string) string {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(signingInput))
	return b64.EncodeToString(mac.Sum(nil))
}

func (t *tokens) issue(sub string) (string, error) {
	now := t.now()
	payload, err := json.Marshal(claims{Sub: sub, Iat: now.Unix(), Exp: now.Add(t.ttl).Unix()})
	if err != nil {
		return "", fmt.Errorf("token payload: %w", err)
	}
	input := tokenHeader + "." + b64.EncodeToString(payload)
	return input + "." + t.sign(input), nil
}

// verify checks the signature before it parses anything it signs, and
// returns the subject.
func (t *tokens) verify(token string) (string, error) {
	if len(token) > maxTokenLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadToken, maxTokenLen)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: want header.payload.signature", ErrBadToken)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return "", fmt.Errorf("%w: signature: %v", ErrBadToken, err)
	}
	want, _ := b64.DecodeString(t.sign(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, want) {
		return "", ErrBadSignature
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return "", fmt.Errorf("%w: header: %v", ErrBadToken, err)
	}
	if hdr.Alg != "HS256" {
		return "", fmt.Errorf("%w: header: alg %q, want HS256", ErrBadToken, hdr.Alg)
	}
	var c claims
	if err := decodeSegment(parts[1], &c); err != nil {
		return "", fmt.Errorf("%w: payload: %v", ErrBadToken, err)
	}
	if !validPlayer(c.Sub) {
		return "", fmt.Errorf("%w: payload: sub: not a player id", ErrBadToken)
	}
	if t.now().Unix() >= c.Exp {
		return "", ErrExpired
	}
	return c.Sub, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// bearer takes the token from "Authorization: Bearer …", else from the
// session cookie.
func bearer(authz, cookie string) (string, error) {
	if authz != "" {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(authz), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", fmt.Errorf("%w: Authorization: want \"Bearer <token>\"", ErrBadToken)
		}
		return strings.TrimSpace(tok), nil
	}
	if cookie != "" {
		return cookie, nil
	}
	return "", ErrNoToken
}
