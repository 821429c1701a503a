package testers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// ErrBadTarget marks a base URL the testers cannot use.
var ErrBadTarget = errors.New("bad target")

// Run plays the population against the gateway at baseURL (normally a
// recording proxy in front of it). It returns when the duration has passed,
// every tester has spent its action budget, or ctx ends; no goroutine it
// started outlives it. A cancelled ctx returns the stats so far and
// ctx.Err(); the duration running out is a normal end.
func (p Population) Run(ctx context.Context, baseURL string) (Stats, error) {
	testers, err := p.Testers()
	if err != nil {
		return Stats{}, err
	}
	base, err := parseBase(baseURL)
	if err != nil {
		return Stats{}, err
	}
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(p.Duration))
	defer cancel()

	per := make([]ProfileStats, len(testers))
	var wg sync.WaitGroup
	for i, t := range testers {
		wg.Go(func() {
			pl := newPlayer(p, t, base, start, &per[i])
			defer pl.close()
			pl.play(runCtx)
		})
	}
	wg.Wait()

	st := Stats{Elapsed: time.Since(start), Profiles: map[Profile]ProfileStats{}}
	for i, t := range testers {
		ps := st.Profiles[t.Profile]
		per[i].Testers = 1
		ps.add(per[i])
		st.Profiles[t.Profile] = ps
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("testers: %w", err)
	}
	return st, nil
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadTarget, raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q: want http://host:port or https://host:port", ErrBadTarget, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: %q: no query or fragment, please", ErrBadTarget, raw)
	}
	u.Path = trimSlash(u.Path)
	return u, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// sleep pauses for d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
