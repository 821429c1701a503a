package gateway

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/compose/internal/svc"
)

type itemsBody struct {
	Items []itemJSON `json:"items"`
}

func TestLoginListBuyInventoryHistory(t *testing.T) {
	st := startStack(t, defaultStack())

	code, body, hdr := st.doFull(t, "POST", "/v1/login", "", strings.NewReader(`{"user":"ann","password":"pw"}`))
	require.Equal(t, 200, code, body)
	login := decode[loginResponse](t, body)
	assert.Equal(t, "ann", login.PlayerID)
	assert.Equal(t, int64(1000), login.Balance)
	assert.Len(t, strings.Split(login.Token, "."), 3, "JWT-shaped")
	assert.Contains(t, hdr.Get("Set-Cookie"), "session="+login.Token)
	assert.Contains(t, hdr.Get("Set-Cookie"), "HttpOnly")
	tok := login.Token

	code, body = st.do(t, "GET", "/v1/items", tok, nil)
	require.Equal(t, 200, code, body)
	items := decode[itemsBody](t, body).Items
	require.Len(t, items, 50)
	first := items[0]
	assert.Equal(t, int64(1), first.ID)
	assert.Empty(t, first.Owner)
	assert.Contains(t, body, `"owner":""`, "an unsold item says so")

	code, body = st.do(t, "POST", "/v1/items/1/buy", tok, nil)
	require.Equal(t, 200, code, body)
	buy := decode[buyResponse](t, body)
	assert.Regexp(t, `^ord-[0-9a-f]{8}-\d{6}$`, buy.OrderID)
	assert.Equal(t, int64(1), buy.Item)
	assert.Equal(t, 1000-first.Price, buy.Balance)
	assert.Regexp(t, `^0x[0-9a-f]{64}$`, buy.Tx)

	code, body = st.do(t, "GET", "/v1/items", tok, nil)
	require.Equal(t, 200, code)
	assert.Equal(t, "ann", decode[itemsBody](t, body).Items[0].Owner)

	code, body = st.do(t, "GET", "/v1/players/ann/inventory", tok, nil)
	require.Equal(t, 200, code, body)
	inv := decode[struct {
		Player string     `json:"player"`
		Items  []itemJSON `json:"items"`
		AsOf   uint64     `json:"as_of_block"`
	}](t, body)
	assert.Equal(t, "ann", inv.Player)
	require.Len(t, inv.Items, 1)
	assert.Equal(t, int64(1), inv.Items[0].ID)

	code, body = st.do(t, "GET", "/v1/players/ann/history?limit=5", tok, nil)
	require.Equal(t, 200, code, body)
	hist := decode[struct {
		Txs []txJSON `json:"txs"`
	}](t, body)
	require.Len(t, hist.Txs, 1)
	assert.Equal(t, "buy", hist.Txs[0].Kind)
	assert.Equal(t, buy.Tx, hist.Txs[0].Hash)
	assert.Equal(t, first.Price, hist.Txs[0].Amount)

	// A second player finds the item sold: 409 with the reason.
	bob := st.login(t, "bob")
	code, body = st.do(t, "POST", "/v1/items/1/buy", bob, nil)
	assert.Equal(t, http.StatusConflict, code, body)
	assert.Equal(t, "ITEM_SOLD", decode[errorBody](t, body).Reason)
	assert.Contains(t, body, "already sold")

	code, body = st.do(t, "POST", "/v1/items/9999/buy", bob, nil)
	assert.Equal(t, http.StatusNotFound, code, body)
	code, _ = st.do(t, "POST", "/v1/items/abc/buy", bob, nil)
	assert.Equal(t, http.StatusBadRequest, code)
	code, _ = st.do(t, "GET", "/v1/players/ann/history?limit=0", tok, nil)
	assert.Equal(t, http.StatusBadRequest, code)
}

func TestMissionsThroughTheGateway(t *testing.T) {
	st := startStack(t, defaultStack())
	tok := st.login(t, "ann")
	code, body := st.do(t, "GET", "/v1/missions/1", tok, nil)
	require.Equal(t, 200, code, body)
	assert.JSONEq(t, `{"mission":"1","step":0}`, body)
	for step := 1; step <= 3; step++ {
		code, body = st.do(t, "POST", "/v1/missions/1/advance", tok, nil)
		require.Equal(t, 200, code, body)
		assert.JSONEq(t, fmt.Sprintf(`{"mission":"1","step":%d}`, step), body)
	}
	code, body = st.do(t, "GET", "/v1/missions/1", st.login(t, "bob"), nil)
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"mission":"1","step":0}`, body, "progress is the caller's own")
	code, _ = st.do(t, "GET", "/v1/missions/bad%20id", tok, nil)
	assert.Equal(t, http.StatusBadRequest, code)
}

func TestAuthorization(t *testing.T) {
	st := startStack(t, defaultStack())
	tok := st.login(t, "ann")

	code, _, hdr := st.doFull(t, "GET", "/v1/items", "", nil)
	assert.Equal(t, http.StatusUnauthorized, code, "no token")
	assert.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")

	forged := &tokens{secret: []byte("not the gateway's"), ttl: time.Hour, now: time.Now}
	bad, err := forged.issue("ann")
	require.NoError(t, err)
	code, body := st.do(t, "GET", "/v1/items", bad, nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, body, "signature")
	code, _ = st.do(t, "GET", "/v1/items", "garbage", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	for _, path := range []string{"/v1/items/1/buy", "/v1/missions/1/advance", "/v1/telemetry/nar"} {
		code, _ = st.do(t, "POST", path, "", nil)
		assert.Equal(t, http.StatusUnauthorized, code, path)
	}

	code, _ = st.do(t, "GET", "/v1/players/bob/inventory", tok, nil)
	assert.Equal(t, http.StatusForbidden, code, "only one's own inventory")

	// The session cookie alone authenticates too.
	req, err := http.NewRequest("GET", st.base+"/v1/items", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	for _, in := range []string{`{"user":"","password":"p"}`, `{"user":"a b","password":"p"}`, `{"user":"ann"}`, `not json`} {
		code, _ = st.do(t, "POST", "/v1/login", "", strings.NewReader(in))
		assert.Equal(t, http.StatusBadRequest, code, in)
	}
	code, _ = st.do(t, "POST", "/v1/login", "", strings.NewReader(`{"user":"`+strings.Repeat("a", maxLoginBytes)+`"}`))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)

	_, metrics := st.do(t, "GET", "/metrics", "", nil)
	assert.Contains(t, metrics, `gateway_auth_failures_total{reason="missing"} 4`)
	assert.Contains(t, metrics, `gateway_auth_failures_total{reason="signature"} 1`)
	assert.Contains(t, metrics, `gateway_auth_failures_total{reason="forbidden"} 1`)
}

func TestInsufficientBalanceIs402(t *testing.T) {
	sc := defaultStack()
	sc.market.StartBalance = 5
	st := startStack(t, sc)
	code, body := st.do(t, "POST", "/v1/items/1/buy", st.login(t, "ann"), nil)
	assert.Equal(t, http.StatusPaymentRequired, code, body)
	assert.Equal(t, "INSUFFICIENT_BALANCE", decode[errorBody](t, body).Reason)
}

func TestBackendDeadlineIs504(t *testing.T) {
	sc := defaultStack()
	sc.gateway.BackendTimeout = 100 * time.Millisecond
	st := startStack(t, sc)
	tok := st.login(t, "ann")
	st.chain.slow.Store(true)
	code, body := st.do(t, "GET", "/v1/players/ann/inventory", tok, nil)
	assert.Equal(t, http.StatusGatewayTimeout, code, body)
	code, _ = st.do(t, "GET", "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, code, "a backend that does not answer makes the gateway unready")
}

func TestBackendDownIs503AndNotReady(t *testing.T) {
	_, chainAddr := startChain(t)
	cfg := DefaultConfig()
	cfg.Marketplace, cfg.Missions, cfg.Indexer = "127.0.0.1:1", chainAddr, chainAddr
	gw, err := NewService(loopback(), cfg, io.Discard)
	require.NoError(t, err)
	startSvc(t, gw)
	st := &stack{base: "http://" + gw.HTTPAddr()}
	code, body := st.do(t, "POST", "/v1/login", "", strings.NewReader(`{"user":"ann","password":"pw"}`))
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	code, body = st.do(t, "GET", "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "marketplace")
}

// TestFaultPanic: with FAULT_PANIC, buying an item whose id is a multiple of
// 13 panics; svc.Handle answers 500, counts it, and the gateway serves on.
func TestFaultPanic(t *testing.T) {
	for _, fault := range []bool{false, true} {
		t.Run(fmt.Sprintf("fault=%v", fault), func(t *testing.T) {
			sc := defaultStack()
			sc.gateway.FaultPanic = fault
			st := startStack(t, sc)
			tok := st.login(t, "ann")

			code, body := st.do(t, "POST", "/v1/items/12/buy", tok, nil)
			require.Equal(t, 200, code, body)
			code, body = st.do(t, "POST", "/v1/items/13/buy", tok, nil)
			_, metrics := st.do(t, "GET", "/metrics", "", nil)
			if !fault {
				assert.Equal(t, 200, code, body)
				assert.Contains(t, metrics, "service_panics_total 0")
				return
			}
			assert.Equal(t, http.StatusInternalServerError, code, body)
			assert.Contains(t, metrics, "service_panics_total 1")
			assert.Contains(t, metrics, `http_requests_total{code="500",method="POST",route="/v1/items/{id}/buy"} 1`)
			assert.Contains(t, st.logs.String(), `"msg":"panic"`)
			assert.Contains(t, st.logs.String(), "index out of range")

			code, _ = st.do(t, "GET", "/v1/items", tok, nil)
			assert.Equal(t, 200, code, "the gateway keeps serving")
			code, body = st.do(t, "POST", "/v1/items/14/buy", tok, nil)
			assert.Equal(t, 200, code, body)
			code, body = st.do(t, "GET", "/v1/items", tok, nil)
			require.Equal(t, 200, code)
			assert.Empty(t, decode[itemsBody](t, body).Items[12].Owner, "the panic came before the buy")
		})
	}
}

func TestMetricsPresent(t *testing.T) {
	st := startStack(t, defaultStack())
	tok := st.login(t, "ann")
	code, _ := st.do(t, "POST", "/v1/items/2/buy", tok, nil)
	require.Equal(t, 200, code)
	code, metrics := st.do(t, "GET", "/metrics", "", nil)
	require.Equal(t, 200, code)
	for _, want := range []string{
		"gateway_logins_total 1",
		`http_requests_total{code="200",method="POST",route="/v1/items/{id}/buy"} 1`,
		`http_requests_total{code="200",method="POST",route="/v1/login"} 1`,
		`http_request_duration_seconds_bucket{method="POST",route="/v1/items/{id}/buy"`,
		`grpc_client_handled_total{grpc_code="OK",grpc_method="Buy",grpc_service="reprise.platform.v1.Marketplace",grpc_type="unary"} 1`,
		"go_goroutines",
	} {
		assert.Contains(t, metrics, want)
	}
}

func TestNewServiceValidatesConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Indexer = ""
	_, err := NewService(svc.Options{HTTPAddr: "127.0.0.1:0", LogLevel: "info"}, cfg, io.Discard)
	assert.ErrorIs(t, err, ErrConfig)
	assert.ErrorContains(t, err, "indexer:")
	cfg = DefaultConfig()
	cfg.BackendTimeout = 0
	assert.ErrorContains(t, cfg.Validate(), "backend-timeout:")
}

func TestNotReadyWhenAnotherServiceAnswers(t *testing.T) {
	_, chainAddr := startChain(t)
	cfg := DefaultConfig()
	// The chain serves no Marketplace: it answers, but Unimplemented.
	cfg.Marketplace, cfg.Missions, cfg.Indexer = chainAddr, chainAddr, chainAddr
	gw, err := NewService(loopback(), cfg, io.Discard)
	require.NoError(t, err)
	startSvc(t, gw)
	st := &stack{base: "http://" + gw.HTTPAddr()}
	code, body := st.do(t, "GET", "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "marketplace")
}
