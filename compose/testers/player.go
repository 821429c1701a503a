package testers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Headers that tag the testers' own doing, so recordings and servers can
// tell injected faults and retries apart from real trouble.
const (
	HeaderFault = "X-Reprise-Fault"
	HeaderRetry = "X-Reprise-Retry"
)

// ErrInjected wraps the errors the flaky profile causes on purpose.
var ErrInjected = errors.New("injected fault")

// maxBody caps what a tester reads of a response; the gateway's answers are
// small, and a misbehaving target must not exhaust memory.
const maxBody = 1 << 20

// player runs one tester. Only its own goroutine touches it.
type player struct {
	pop    Population
	t      Tester
	script *Script
	base   *url.URL
	start  time.Time
	stats  *ProfileStats
	jitter *rand.Rand
	tr     *http.Transport
	client *http.Client
	token  string
}

func newPlayer(p Population, t Tester, base *url.URL, start time.Time, stats *ProfileStats) *player {
	pl := &player{
		pop: p, t: t, script: p.Script(t), base: base, start: start, stats: stats,
		jitter: p.rng(t.Index, streamRuntime),
	}
	pl.connect()
	return pl
}

// connect opens a fresh transport: a new client's connections.
func (pl *player) connect() {
	tr := &http.Transport{
		Proxy:               nil, // load goes to the target and nowhere else
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     30 * time.Second,
	}
	if pl.t.H2C {
		var ps http.Protocols
		if pl.base.Scheme == "https" {
			ps.SetHTTP2(true)
		} else {
			ps.SetUnencryptedHTTP2(true)
		}
		tr.Protocols = &ps
	}
	timeout := pl.pop.RequestTimeout
	if pl.t.Profile == Flaky {
		timeout /= 2
	}
	pl.tr = tr
	pl.client = &http.Client{Transport: tr, Timeout: timeout}
}

func (pl *player) close() { pl.tr.CloseIdleConnections() }

func (pl *player) play(ctx context.Context) {
	if !sleep(ctx, pl.t.StartAfter) || !pl.login(ctx) {
		return
	}
	for range pl.pop.MaxActions {
		if ctx.Err() != nil {
			return
		}
		a := pl.script.Next()
		pl.perform(ctx, a)
		pl.stats.Actions++
		if !sleep(ctx, a.Think) {
			return
		}
	}
}

func (pl *player) login(ctx context.Context) bool {
	body, _ := json.Marshal(map[string]string{"user": pl.t.ID, "password": "pw-" + pl.t.ID})
	attempts := 3
	for try := range attempts {
		if try > 0 && !pl.backoff(ctx, try) {
			return false
		}
		code, data, err := pl.attempt(ctx, "POST", "/v1/login", body, NoFault, try)
		if ctx.Err() != nil {
			return false
		}
		if err == nil && code == http.StatusOK {
			var in struct {
				Token string `json:"token"`
			}
			if json.Unmarshal(data, &in) == nil && in.Token != "" {
				pl.token = in.Token
				pl.stats.Logins++
				return true
			}
		}
		if err == nil && code < 500 {
			break // refused: retrying will not help
		}
	}
	pl.stats.LoginFailures++
	return false
}

func (pl *player) perform(ctx context.Context, a Action) {
	if a.Kind == Reconnect {
		pl.tr.CloseIdleConnections()
		pl.connect()
		pl.stats.Reconnects++
		return
	}
	method, path, ok := a.Request(pl.t.ID)
	if !ok {
		return
	}
	if a.Drop > 0 && !sleep(ctx, time.Until(pl.pop.DropTick(pl.start, a.Drop))) {
		return
	}
	var body []byte
	if a.NAR != nil {
		nar := *a.NAR
		nar.Time = time.Now().UTC()
		body, _ = json.Marshal(nar)
	}
	attempts := 1
	if pl.t.Profile == Flaky {
		attempts = 4
	}
	for try := range attempts {
		if try > 0 {
			pl.stats.Retries++
			if !pl.backoff(ctx, try) {
				return
			}
		}
		fault := NoFault
		if try == 0 {
			fault = a.Fault
		}
		code, data, err := pl.attempt(ctx, method, path, body, fault, try)
		if ctx.Err() != nil {
			return
		}
		if err == nil && code/100 == 2 && a.Kind == PostNAR {
			pl.stats.NARPosts++
		}
		if err == nil && code == http.StatusOK && a.Kind == Buy && readsOrders(pl.t.Profile) {
			pl.readOrder(ctx, data)
		}
		if err == nil && code < 500 {
			return
		}
	}
}

// readsOrders tells the profiles that read a bought order back.
func readsOrders(p Profile) bool { return p == Trader || p == Casual }

// readOrder reads back the order a successful buy answered with, as a
// client showing a receipt would. The id is the server's, so a replay of
// this request works only if it re-correlates the id from its own buy.
func (pl *player) readOrder(ctx context.Context, buyBody []byte) {
	var buy struct {
		OrderID string `json:"order_id"`
	}
	if json.Unmarshal(buyBody, &buy) != nil || buy.OrderID == "" {
		pl.stats.OrderReadFailures++
		return
	}
	code, _, err := pl.attempt(ctx, "GET", "/v1/orders/"+url.PathEscape(buy.OrderID), nil, NoFault, 0)
	switch {
	case ctx.Err() != nil:
	case err == nil && code == http.StatusOK:
		pl.stats.OrderReads++
	default:
		pl.stats.OrderReadFailures++
	}
}

// backoff waits before retry try (1, 2, ...): exponential from 100ms with
// full jitter, scaled like every other pause.
func (pl *player) backoff(ctx context.Context, try int) bool {
	ceiling := float64(100*time.Millisecond<<(try-1)) * pl.pop.TimeScale
	return sleep(ctx, time.Duration(pl.jitter.Float64()*ceiling))
}

// attempt sends one request and counts it; ctx is the run's. Attempts cut
// off by the end of the run are counted as interrupted, nothing else.
func (pl *player) attempt(ctx context.Context, method, path string, body []byte, fault Fault, try int) (int, []byte, error) {
	client := pl.client
	if fault != NoFault {
		var done func()
		client, done = pl.faultyClient(fault)
		defer done()
	}
	u := *pl.base
	u.Path += path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", pl.t.UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if pl.token != "" {
		req.Header.Set("Authorization", "Bearer "+pl.token)
	}
	if fault != NoFault {
		req.Header.Set(HeaderFault, string(fault))
	}
	if try > 0 {
		req.Header.Set(HeaderRetry, strconv.Itoa(try))
	}
	resp, err := client.Do(req)
	var data []byte
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
	}
	switch {
	case err != nil && ctx.Err() != nil:
		pl.stats.Interrupted++
		return 0, nil, err
	case err != nil && fault != NoFault:
		pl.stats.Requests++
		pl.stats.Intentional++
		return 0, nil, fmt.Errorf("%w (%s): %w", ErrInjected, fault, err)
	case err != nil:
		pl.stats.Requests++
		pl.stats.TransportErrors++
		return 0, nil, err
	}
	pl.stats.Requests++
	pl.stats.Status.add(resp.StatusCode)
	if resp.StatusCode == http.StatusConflict {
		pl.stats.Conflicts++
	}
	return resp.StatusCode, data, nil
}
