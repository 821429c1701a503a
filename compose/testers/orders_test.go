package testers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/compose/testers"
	"github.com/reprise-dev/reprise/compose/testers/gatewaytest"
)

// TestBuyersReadTheirOrdersBack: traders and casual testers follow every
// buy that succeeded with GET /v1/orders/{id}, using the id the server
// issued, before anything else; a buy that failed is not followed, and the
// other profiles never read orders.
func TestBuyersReadTheirOrdersBack(t *testing.T) {
	checkLeaks(t)
	gw := gatewaytest.Start(t)
	p := quick(12, 1500*time.Millisecond)
	p.MaxActions = 60
	p.Mix = testers.Mix{{Profile: testers.Trader, Weight: 0.5}, {Profile: testers.Casual, Weight: 0.25}, {Profile: testers.Bot, Weight: 0.25}}
	ts, err := p.Testers()
	require.NoError(t, err)
	profile := map[string]testers.Profile{}
	for _, tt := range ts {
		profile[tt.ID] = tt.Profile
	}

	st, err := p.Run(context.Background(), gw.URL)
	require.NoError(t, err)

	byPlayer := map[string][]gatewaytest.Request{}
	for _, r := range gw.Requests() {
		byPlayer[r.Player] = append(byPlayer[r.Player], r)
	}
	var wonBuys, reads, failedBuys int64
	for player, rs := range byPlayer {
		for i, r := range rs {
			isRead := r.Method == "GET" && strings.HasPrefix(r.Path, "/v1/orders/")
			if isRead {
				reads++
				assert.Equal(t, http.StatusOK, r.Status, "%s reads its own order %s", player, r.Path)
				require.Positive(t, i)
				prev := rs[i-1]
				assert.True(t, prev.Method == "POST" && strings.HasSuffix(prev.Path, "/buy") && prev.Status == http.StatusOK,
					"%s: %s follows a successful buy, not %s %s %d", player, r.Path, prev.Method, prev.Path, prev.Status)
				continue
			}
			if r.Method != "POST" || !strings.HasSuffix(r.Path, "/buy") {
				continue
			}
			last := i == len(rs)-1
			switch {
			case r.Status != http.StatusOK:
				failedBuys++
				if !last {
					assert.False(t, strings.HasPrefix(rs[i+1].Path, "/v1/orders/"), "%s: a failed buy is not read back", player)
				}
			case readsOrderProfile(profile[player]):
				wonBuys++
				if !last {
					assert.True(t, strings.HasPrefix(rs[i+1].Path, "/v1/orders/"), "%s: %s is followed by its read-back", player, r.Path)
				}
			default:
				t.Errorf("%s (%s) bought: only traders and casual testers buy in this mix", player, profile[player])
			}
		}
	}
	total := st.Total()
	require.Positive(t, wonBuys, "some buys succeeded")
	assert.Positive(t, failedBuys, "traders lost some buys to each other")
	// A read-back the fake answered can still be cut off by the end of the
	// run on its way back; it is then counted as interrupted.
	assert.LessOrEqual(t, total.OrderReads, reads)
	assert.LessOrEqual(t, reads-total.OrderReads, total.Interrupted, "every read-back the fake answered 200 is counted")
	assert.Zero(t, total.OrderReadFailures)
	// The run can end between a buy and its read-back: at most one per tester.
	assert.LessOrEqual(t, wonBuys-reads, int64(len(ts)))
	assert.GreaterOrEqual(t, wonBuys, reads)
	assert.Zero(t, st.Profiles[testers.Bot].OrderReads)
}

func readsOrderProfile(p testers.Profile) bool { return p == testers.Trader || p == testers.Casual }
