package creds

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoToken means the provider has no token for the placeholder. The caller
// keeps the placeholder in the request and flags the request's result.
var ErrNoToken = errors.New("creds: no token")

// Provider returns the live token that replaces placeholder in the requests
// of session. It is safe for concurrent use.
type Provider interface {
	Token(ctx context.Context, session, placeholder string) (string, error)
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context, session, placeholder string) (string, error)

// Token calls f.
func (f ProviderFunc) Token(ctx context.Context, session, placeholder string) (string, error) {
	return f(ctx, session, placeholder)
}

// Static serves tokens from a fixed map. A key is either a placeholder or a
// session key; when both match, the placeholder's entry wins, so one secret
// can be overridden for every session while a session-wide token covers the
// rest. A missing entry is an error that wraps ErrNoToken. The map is copied.
func Static(tokens map[string]string) Provider {
	m := make(map[string]string, len(tokens))
	for k, v := range tokens {
		m[k] = v
	}
	return staticProvider(m)
}

type staticProvider map[string]string

func (s staticProvider) Token(_ context.Context, session, placeholder string) (string, error) {
	if tok, ok := s[placeholder]; ok && placeholder != "" {
		return tok, nil
	}
	if tok, ok := s[session]; ok && session != "" {
		return tok, nil
	}
	return "", fmt.Errorf("%w: session %q, placeholder %q", ErrNoToken, session, placeholder)
}

var (
	_ Provider = ProviderFunc(nil)
	_ Provider = staticProvider(nil)
)
