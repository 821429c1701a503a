package plan

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// filter selects exchanges before planning. Dropping a producer drops its
// correlations too: its value is then first seen in a request.
type filter struct {
	window   bool
	from, to time.Duration
	sessions map[string]bool
	routes   []string
}

func (f *filter) keep(n Node, c *Call) bool {
	if f.window && (n.Start < f.from || n.Start >= f.to) {
		return false
	}
	if f.sessions != nil && !f.sessions[c.Session] {
		return false
	}
	if len(f.routes) == 0 {
		return true
	}
	for _, g := range f.routes {
		if globMatch(g, c.Route) {
			return true
		}
	}
	return false
}

// Window keeps the exchanges that started in [from, to), offsets from the
// recording's clock anchor.
func Window(from, to time.Duration) Option {
	return func(c *config) error {
		if to <= from {
			return fmt.Errorf("%w: window end %s not after start %s", ErrBadOption, to, from)
		}
		c.filter.window, c.filter.from, c.filter.to = true, from, to
		return nil
	}
}

// Sessions keeps the exchanges of the named sessions.
func Sessions(keys ...string) Option {
	return func(c *config) error {
		if c.filter.sessions == nil {
			c.filter.sessions = make(map[string]bool, len(keys))
		}
		for _, k := range keys {
			c.filter.sessions[k] = true
		}
		return nil
	}
}

// Routes keeps the exchanges whose route template matches one of the globs.
// A glob is a path.Match pattern ('*' stays within a segment), and a
// trailing "/**" matches everything below: "/v1/items/*/buy",
// "/v1/players/**", "/market.v1.Market/*".
func Routes(globs ...string) Option {
	return func(c *config) error {
		for _, g := range globs {
			if _, err := path.Match(strings.TrimSuffix(g, "/**"), ""); err != nil {
				return fmt.Errorf("%w: route glob %q: %w", ErrBadOption, g, err)
			}
		}
		c.filter.routes = append(c.filter.routes, globs...)
		return nil
	}
}

func globMatch(glob, route string) bool {
	if prefix, ok := strings.CutSuffix(glob, "/**"); ok {
		if ok, _ := path.Match(prefix, route); ok {
			return true
		}
		// Match the prefix against the same number of leading segments.
		n := strings.Count(prefix, "/")
		parts := strings.SplitN(route, "/", n+2)
		if len(parts) < n+2 {
			return false
		}
		ok, _ := path.Match(prefix, strings.Join(parts[:n+1], "/"))
		return ok
	}
	ok, _ := path.Match(glob, route)
	return ok
}

// Selects returns what the filters among opts keep (Window, Sessions,
// Routes), as Build applies them: a reader that must see the exchanges a
// plan was built from, and no other record that shares an id with one,
// applies it to the same stream.
func Selects(opts ...Option) (func(*rprpb.Exchange) bool, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	f := cfg.filter
	return func(ex *rprpb.Exchange) bool {
		n, c := nodeOf(ex)
		return f.keep(n, &c)
	}, nil
}
