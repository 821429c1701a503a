package stack

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// readyPoll is how often WaitReady asks; readiness is cheap to ask.
const readyPoll = 50 * time.Millisecond

var readyClient = &http.Client{Timeout: time.Second}

// Ready reports whether GET url answers 200 now.
func Ready(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := readyClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// WaitReady polls url until it answers 200, ctx ends or timeout passes.
// alive, if set, is asked between polls so a service that died fails fast
// instead of running out the timeout.
func WaitReady(ctx context.Context, url string, timeout time.Duration, alive func() error) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		if Ready(ctx, url) {
			return nil
		}
		if alive != nil {
			if err := alive(); err != nil {
				return fmt.Errorf("%s: %w: %w", url, ErrNotReady, err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("%s: %w within %s", url, ErrNotReady, timeout)
		case <-tick.C:
		}
	}
}
