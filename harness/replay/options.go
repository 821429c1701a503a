package replay

import (
	"crypto/tls"
	"fmt"
	"time"
)

// DefaultTimeout bounds one request, from send to the end of its body.
const DefaultTimeout = 30 * time.Second

// Option configures a Replayer.
type Option func(*config) error

type config struct {
	outDir  string
	timeout time.Duration
	tls     *tls.Config
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
