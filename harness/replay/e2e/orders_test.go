package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

const orderPrefix = "/v1/orders/"

// TestReplayReCorrelatesServerIssuedOrderIDs: the testers read back every
// order they buy (GET /v1/orders/{id}, with the id the buy answered). A
// fresh stack issues other ids (the marketplace tags its ids per process),
// so each read-back succeeds on replay only if its path carries the id the
// replayed buy got. The test checks, at speed 1 against a new stack:
//   - every replayed read-back answered 200, none needed an unresolved
//     value, and no request at all answered 404;
//   - what reached the stack (a recording proxy in front of it): every
//     read-back path names an order that a replayed buy of the same player
//     had just been issued, never a recorded id, and there are as many as
//     were recorded;
//   - control: a recorded id sent as is to the new stack is a 404.
func TestReplayReCorrelatesServerIssuedOrderIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the reference stack twice")
	}
	rec := recordingOnce(t)
	recordedIDs := map[string]bool{}
	recordedReads, recordedBuys := 0, 0
	for _, ex := range rec.exchanges {
		if isBuy(ex) && ex.GetResponse().GetStatus() == http.StatusOK {
			recordedBuys++
			recordedIDs[jsonString(ex.GetResponse().GetBody().GetData(), "order_id")] = true
		}
		if isOrderRead(ex) {
			recordedReads++
			require.Equal(t, int32(http.StatusOK), ex.GetResponse().GetStatus(), "recorded %s", ex.GetRequest().GetPath())
		}
	}
	require.Positive(t, recordedReads, "the recording holds order read-backs")
	t.Logf("recorded: %d successful buys, %d order read-backs", recordedBuys, recordedReads)

	r := replayFresh(t, rec, 1, nil)

	reads := 0
	for i, n := range r.plan.Nodes {
		nc := r.plan.Call(i)
		res := r.result(t, i)
		assert.NotEqual(t, int32(http.StatusNotFound), res.GetStatus(), "%s %s (exchange %d): no 404", nc.Method, nc.Route, n.ID)
		ex := r.src[n.ID]
		if isBuy(ex) && ex.GetResponse().GetStatus() == http.StatusOK {
			assert.Equal(t, int32(http.StatusOK), res.GetStatus(), "exchange %d: a recorded purchase succeeds again (no two players want one item)", n.ID)
		}
		if !isOrderRead(ex) {
			continue
		}
		reads++
		assert.Equal(t, int32(http.StatusOK), res.GetStatus(), "exchange %d %s", n.ID, ex.GetRequest().GetPath())
		assert.Empty(t, res.GetUnresolved(), "exchange %d: the buy it depends on answered an id", n.ID)
		assert.Positive(t, res.GetSubstituted(), "exchange %d", n.ID)
	}
	assert.Equal(t, recordedReads, reads)

	// What the stack received: each read-back names an id that a replayed
	// buy by the same player (session: the JWT subject) was issued before.
	issued := map[string]string{} // live order id → player
	sentReads := 0
	for _, ex := range r.sent {
		if isBuy(ex) && ex.GetResponse().GetStatus() == http.StatusOK {
			id := jsonString(ex.GetResponse().GetBody().GetData(), "order_id")
			require.NotEmpty(t, id)
			issued[id] = ex.GetSession()
			assert.False(t, recordedIDs[id], "the new stack issued %s, an id of the recording run", id)
		}
		if !isOrderRead(ex) {
			continue
		}
		sentReads++
		id := strings.TrimPrefix(ex.GetRequest().GetPath(), orderPrefix)
		assert.False(t, recordedIDs[id], "read-back %s sent with a recorded id", id)
		buyer, ok := issued[id]
		assert.True(t, ok, "read-back %s names an id a replayed buy was issued earlier", id)
		assert.Equal(t, buyer, ex.GetSession(), "read-back %s by its buyer", id)
		assert.Equal(t, int32(http.StatusOK), ex.GetResponse().GetStatus(), "read-back %s", id)
	}
	assert.Equal(t, recordedReads, sentReads, "the stack saw every read-back")

	// Control: the recorded ids mean nothing to the new stack.
	gateway := "http://" + r.stack.Endpoints()["gateway"].HTTP
	i := slices.IndexFunc(rec.exchanges, isOrderRead)
	stale, owner := rec.exchanges[i].GetRequest().GetPath(), rec.exchanges[i].GetSession()
	assert.Equal(t, http.StatusNotFound, get(t, gateway+stale, login(t, gateway, owner)), "recorded %s by %s on the new stack", stale, owner)
}

func isBuy(ex *rprpb.Exchange) bool {
	return ex.GetRequest().GetMethod() == http.MethodPost && strings.HasSuffix(ex.GetRequest().GetPath(), "/buy")
}

func isOrderRead(ex *rprpb.Exchange) bool {
	return ex.GetRequest().GetMethod() == http.MethodGet && strings.HasPrefix(ex.GetRequest().GetPath(), orderPrefix)
}

// login logs user in at the gateway and returns the token.
func login(t *testing.T, gateway, user string) string {
	t.Helper()
	resp, err := http.Post(gateway+"/v1/login", "application/json", strings.NewReader(fmt.Sprintf(`{"user":%q,"password":"pw"}`, user)))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	tok := jsonString(body, "token")
	require.NotEmpty(t, tok)
	return tok
}

// get sends an authenticated GET and returns the status.
func get(t *testing.T, u, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
