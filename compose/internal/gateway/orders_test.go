package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOrderReadBack: the buyer reads the order a buy issued; an unknown id,
// and another player's order, are both 404 with the same body shape, so ids
// cannot be probed for other players' purchases.
func TestOrderReadBack(t *testing.T) {
	st := startStack(t, defaultStack())
	ann, bob := st.login(t, "ann"), st.login(t, "bob")

	code, body := st.do(t, "POST", "/v1/items/4/buy", ann, nil)
	require.Equal(t, 200, code, body)
	buy := decode[buyResponse](t, body)

	code, body = st.do(t, "GET", "/v1/orders/"+buy.OrderID, ann, nil)
	require.Equal(t, 200, code, body)
	o := decode[orderJSON](t, body)
	assert.Equal(t, buy.OrderID, o.OrderID)
	assert.Equal(t, "ann", o.Player)
	assert.Equal(t, int64(4), o.Item)
	assert.Equal(t, buy.Balance, o.BalanceAfter)
	assert.Equal(t, 1000-buy.Balance, o.Price)
	assert.Equal(t, buy.Tx, o.Tx)
	assert.NotZero(t, o.CreatedNano)

	code, other := st.do(t, "GET", "/v1/orders/"+buy.OrderID, bob, nil)
	assert.Equal(t, http.StatusNotFound, code, other)
	assert.Equal(t, "NOT_FOUND", decode[errorBody](t, other).Reason)

	unknown := buy.OrderID[:len(buy.OrderID)-1] + "9"
	code, missing := st.do(t, "GET", "/v1/orders/"+unknown, ann, nil)
	assert.Equal(t, http.StatusNotFound, code, missing)
	assert.Equal(t, "NOT_FOUND", decode[errorBody](t, missing).Reason)
	assert.Equal(t, strings.Replace(other, buy.OrderID, unknown, 1), missing,
		"another player's order reads exactly like an unknown one")

	code, _ = st.do(t, "GET", "/v1/orders/"+buy.OrderID, "", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, body = st.do(t, "GET", "/v1/orders/"+strings.Repeat("x", 65), ann, nil)
	assert.Equal(t, http.StatusBadRequest, code, body)
	code, body = st.do(t, "GET", "/v1/orders/ord.1", ann, nil)
	assert.Equal(t, http.StatusBadRequest, code, body)
}
