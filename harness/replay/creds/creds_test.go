package creds

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	ph1 = "rpr-redacted-0123456789abcdef01234567"
	ph2 = "rpr-redacted-fedcba9876543210fedcba98"
)

func TestStaticPrecedence(t *testing.T) {
	tokens := map[string]string{ph1: "placeholder-token", "s1": "session-token"}
	p := Static(tokens)
	tokens[ph1] = "changed after Static" // Static copies the map

	cases := []struct {
		name, session, placeholder, want string
	}{
		{"placeholder wins over session", "s1", ph1, "placeholder-token"},
		{"placeholder alone", "s2", ph1, "placeholder-token"},
		{"session fallback", "s1", ph2, "session-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := p.Token(t.Context(), tc.session, tc.placeholder)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tok)
		})
	}
}

func TestStaticMissing(t *testing.T) {
	p := Static(map[string]string{"s1": "session-token", "": "empty-key-token"})
	_, err := p.Token(context.Background(), "s2", ph2)
	require.ErrorIs(t, err, ErrNoToken)
	assert.Contains(t, err.Error(), `"s2"`)
	assert.Contains(t, err.Error(), ph2)
	assert.NotContains(t, err.Error(), "token\"", "no token in the error")

	// An empty session or placeholder never matches an empty key.
	_, err = p.Token(context.Background(), "", "")
	assert.ErrorIs(t, err, ErrNoToken)
	_, err = Static(nil).Token(context.Background(), "s1", ph1)
	assert.ErrorIs(t, err, ErrNoToken)
}

func TestProviderFunc(t *testing.T) {
	var p Provider = ProviderFunc(func(_ context.Context, s, ph string) (string, error) {
		if s == "bad" {
			return "", errors.New("no")
		}
		return s + ph, nil
	})
	tok, err := p.Token(t.Context(), "a", "b")
	require.NoError(t, err)
	assert.Equal(t, "ab", tok)
}
