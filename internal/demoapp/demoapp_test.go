package demoapp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPopulationDrivesServer(t *testing.T) {
	app := NewServer(10)
	srv := httptest.NewUnstartedServer(app)
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &ps
	srv.Start()
	defer srv.Close()

	p := Population{Testers: 4, Duration: 5 * time.Second, MaxActions: 5, Seed: 7, Items: 10, H2CShare: 0.5}
	st, err := Drive(context.Background(), srv.URL, p)
	require.NoError(t, err)
	assert.Zero(t, st.Errors)
	assert.Greater(t, st.Requests, int64(4*5))
	assert.Zero(t, st.ByStatus[http.StatusUnauthorized], "every tester logs in before acting")
	assert.Positive(t, st.ByStatus[http.StatusOK])
	// Traders contend for items 1-3, so some buys must lose; the market
	// sells each item at most once.
	assert.Positive(t, st.ByStatus[http.StatusConflict])
	app.mu.Lock()
	defer app.mu.Unlock()
	assert.LessOrEqual(t, app.orders, 10)
	for player, bal := range app.balances {
		assert.GreaterOrEqual(t, bal, 0, player)
	}
}
