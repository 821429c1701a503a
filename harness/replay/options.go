package replay

import (
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/replay/creds"
)

// DefaultTimeout bounds one request, from send to the end of its body.
const DefaultTimeout = 30 * time.Second

// Option configures a Replayer.
type Option func(*config) error

type config struct {
	outDir  string
	timeout time.Duration
	tls     *tls.Config
	creds   creds.Provider
	shift   *timeShift
	shard   string
}

func defaultConfig() config { return config{timeout: DefaultTimeout} }

// OutDir writes the run directory there: results.rpr, summary.json and
// plan.json. Without it nothing is written and Run only returns the Summary.
func OutDir(dir string) Option {
	return func(c *config) error { c.outDir = dir; return nil }
}

// Timeout bounds each request.
func Timeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: timeout %s: want > 0", ErrBadOption, d)
		}
		c.timeout = d
		return nil
	}
}

// TLS sets the client TLS configuration for https targets.
func TLS(conf *tls.Config) Option {
	return func(c *config) error { c.tls = conf; return nil }
}

// Credentials replaces the redaction placeholders left in request headers
// and cookies (those no live correlated value replaced) with the provider's
// tokens. A provider error is noted in the request's Result error and the
// request is still sent, with the placeholder.
func Credentials(p creds.Provider) Option {
	return func(c *config) error {
		if p == nil {
			return fmt.Errorf("%w: credentials provider is nil", ErrBadOption)
		}
		c.creds = p
		return nil
	}
}

// TimeShift moves the timestamps found in JSON request bodies by delta:
// those that fall within the recording's span [from, to] (see
// timeshift.JSON for the formats and the margin).
func TimeShift(delta time.Duration, from, to time.Time) Option {
	return func(c *config) error {
		if to.Before(from) {
			return fmt.Errorf("%w: time shift window %s..%s ends before it starts", ErrBadOption, from, to)
		}
		c.shift = &timeShift{delta: delta, from: from, to: to}
		return nil
	}
}

// ShardLabel names the shard this run replays, "i/N" with 0 ≤ i < N as
// plan.Plan.Shard numbers them, so that merged runs can be told apart: it
// is Summary.Shard and the "shard" entry of results.rpr's recorder config.
func ShardLabel(s string) Option {
	return func(c *config) error {
		i, n, ok := strings.Cut(s, "/")
		ii, err1 := strconv.Atoi(i)
		nn, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || nn < 1 || ii < 0 || ii >= nn {
			return fmt.Errorf("%w: shard label %q: want i/N with 0 <= i < N", ErrBadOption, s)
		}
		c.shard = s
		return nil
	}
}
