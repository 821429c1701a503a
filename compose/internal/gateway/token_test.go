package gateway

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reprise-dev/reprise/compose/internal/marketplace"
	"github.com/reprise-dev/reprise/recorders/session"
)

func testTokens(now time.Time) *tokens {
	return &tokens{secret: []byte("test secret"), ttl: time.Hour, now: func() time.Time { return now }}
}

func TestTokenRoundTripAndRefusals(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tk := testTokens(now)
	tok, err := tk.issue("ann")
	require.NoError(t, err)
	sub, err := tk.verify(tok)
	require.NoError(t, err)
	assert.Equal(t, "ann", sub)

	// The recording proxy groups sessions by this token's sub claim.
	fromProxy, ok := session.Subject("Bearer " + tok)
	require.True(t, ok)
	assert.Equal(t, "ann", fromProxy)

	later := testTokens(now.Add(time.Hour))
	_, err = later.verify(tok)
	assert.ErrorIs(t, err, ErrExpired)

	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"bob","exp":9999999999}`)) + "." + parts[2]
	_, err = tk.verify(tampered)
	assert.ErrorIs(t, err, ErrBadSignature)

	none := b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1]
	_, err = tk.verify(none + "." + tk.sign(none))
	assert.ErrorIs(t, err, ErrBadToken, "only HS256")

	for _, bad := range []string{"", "a.b", "a.b.c.d", "x.y.!!", strings.Repeat("a", maxTokenLen+1)} {
		_, err = tk.verify(bad)
		assert.True(t, errors.Is(err, ErrBadToken) || errors.Is(err, ErrBadSignature), "%q: %v", bad, err)
	}
}

func TestBearer(t *testing.T) {
	tok, err := bearer("Bearer abc", "cookie")
	require.NoError(t, err)
	assert.Equal(t, "abc", tok, "the header wins over the cookie")
	tok, err = bearer("", "cookie")
	require.NoError(t, err)
	assert.Equal(t, "cookie", tok)
	_, err = bearer("", "")
	assert.ErrorIs(t, err, ErrNoToken)
	_, err = bearer("Basic abc", "")
	assert.ErrorIs(t, err, ErrBadToken)
}

func TestHTTPStatusMapping(t *testing.T) {
	withReason := func(reason string) error {
		st, err := status.New(codes.FailedPrecondition, "x").WithDetails(&errdetails.ErrorInfo{Reason: reason})
		require.NoError(t, err)
		return st.Err()
	}
	for _, c := range []struct {
		err    error
		code   int
		reason string
	}{
		{status.Error(codes.NotFound, "x"), http.StatusNotFound, "NOT_FOUND"},
		{withReason(marketplace.ReasonItemSold), http.StatusConflict, "ITEM_SOLD"},
		{withReason(marketplace.ReasonInsufficientBalance), http.StatusPaymentRequired, "INSUFFICIENT_BALANCE"},
		{status.Error(codes.FailedPrecondition, "x"), http.StatusConflict, "FAILED_PRECONDITION"},
		{status.Error(codes.InvalidArgument, "x"), http.StatusBadRequest, "INVALID_ARGUMENT"},
		{status.Error(codes.Unavailable, "x"), http.StatusServiceUnavailable, "UNAVAILABLE"},
		{status.Error(codes.DeadlineExceeded, "x"), http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"},
		{status.Error(codes.Internal, "x"), http.StatusBadGateway, "BACKEND_ERROR"},
		{errors.New("not a status"), http.StatusBadGateway, "BACKEND_ERROR"},
	} {
		code, reason := httpStatus(c.err)
		assert.Equal(t, c.code, code, "%v", c.err)
		assert.Equal(t, c.reason, reason, "%v", c.err)
	}
}

func FuzzVerifyToken(f *testing.F) {
	tk := testTokens(time.Unix(1_700_000_000, 0))
	good, err := tk.issue("ann")
	require.NoError(f, err)
	for _, seed := range []string{good, "", "a.b.c", "..", good + "x", strings.ToUpper(good)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sub, err := tk.verify(tok)
		if err != nil {
			return
		}
		// Anything accepted must carry our signature over what it says.
		require.True(t, validPlayer(sub))
		parts := strings.Split(tok, ".")
		require.Len(t, parts, 3)
		again, err := tk.verify(parts[0] + "." + parts[1] + "." + tk.sign(parts[0]+"."+parts[1]))
		require.NoError(t, err)
		require.Equal(t, sub, again)
	})
}
