package demoapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Population describes the synthetic testers.
type Population struct {
	Testers  int
	Duration time.Duration
	// MaxActions bounds each tester's actions, whatever the duration.
	MaxActions int
	Seed       uint64
	Items      int
	// H2CShare is the share of testers that speak h2c instead of HTTP/1.1.
	H2CShare float64
}

// DefaultPopulation is what `reprise demo` drives.
var DefaultPopulation = Population{Testers: 12, Duration: 3 * time.Second, MaxActions: 40, Seed: 1, Items: 20, H2CShare: 0.25}

// Stats counts what the population did.
type Stats struct {
	Requests int64
	Errors   int64 // transport errors
	ByStatus map[int]int64
}

// Drive runs the population against baseURL until the duration passes, each
// tester's action budget is spent, or ctx ends.
func Drive(ctx context.Context, baseURL string, p Population) (Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Duration)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		requests atomic.Int64
		errs     atomic.Int64
		byStatus = map[int]int64{}
	)
	for i := 0; i < p.Testers; i++ {
		t := &tester{
			id: fmt.Sprintf("tester-%03d", i), base: baseURL, items: p.Items,
			rng:     rand.New(rand.NewPCG(p.Seed, uint64(i))),
			client:  newClient(float64(i) < p.H2CShare*float64(p.Testers)),
			profile: profiles[i%len(profiles)],
		}
		t.onResult = func(status int, err error) {
			requests.Add(1)
			if err != nil {
				errs.Add(1)
				return
			}
			mu.Lock()
			byStatus[status]++
			mu.Unlock()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer t.client.CloseIdleConnections()
			t.run(ctx, p.MaxActions)
		}()
	}
	wg.Wait()
	return Stats{Requests: requests.Load(), Errors: errs.Load(), ByStatus: byStatus}, nil
}

func newClient(h2c bool) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	if h2c {
		var ps http.Protocols
		ps.SetUnencryptedHTTP2(true)
		tr.Protocols = &ps
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

type profile string

const (
	casual  profile = "casual"
	trader  profile = "trader"
	grinder profile = "grinder"
)

var profiles = []profile{casual, trader, grinder, trader}

type tester struct {
	id, base string
	items    int
	rng      *rand.Rand
	client   *http.Client
	profile  profile
	token    string
	onResult func(status int, err error)
}

func (t *tester) run(ctx context.Context, maxActions int) {
	if t.call(ctx, "POST", "/v1/login", map[string]string{"user": t.id, "password": "pw-" + t.id}, nil) != nil {
		return
	}
	for i := 0; i < maxActions && ctx.Err() == nil; i++ {
		switch t.profile {
		case trader:
			// Traders snipe the same few popular items, which makes contention.
			t.call(ctx, "GET", "/v1/items", nil, nil)
			t.call(ctx, "POST", fmt.Sprintf("/v1/items/%d/buy", 1+t.rng.IntN(3)), nil, nil)
		case grinder:
			m := 1 + t.rng.IntN(2)
			t.call(ctx, "POST", fmt.Sprintf("/v1/missions/%d/advance", m), nil, nil)
		default:
			t.call(ctx, "GET", fmt.Sprintf("/v1/missions/%d", 1+t.rng.IntN(3)), nil, nil)
			if t.rng.IntN(3) == 0 {
				t.call(ctx, "POST", fmt.Sprintf("/v1/items/%d/buy", 1+t.rng.IntN(t.items)), nil, nil)
			}
			t.call(ctx, "GET", "/v1/players/"+t.id+"/inventory", nil, nil)
		}
		think := time.Duration(5+t.rng.IntN(40)) * time.Millisecond
		select {
		case <-ctx.Done():
		case <-time.After(think):
		}
	}
}

func (t *tester) call(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reprise-demo-tester/"+string(t.profile))
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			t.onResult(0, err)
		}
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	t.onResult(resp.StatusCode, nil)
	if path == "/v1/login" && resp.StatusCode == http.StatusOK {
		var in struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(data, &in); err != nil {
			return err
		}
		t.token = in.Token
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
