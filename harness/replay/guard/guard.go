package guard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ErrRefused is returned for a target the guard does not allow.
var ErrRefused = errors.New("target refused")

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Option configures Check.
type Option func(*config)

type config struct {
	allow    map[string]bool
	resolver Resolver
}

// Allow names hosts (as written in the target URL, without port) that may
// be replayed against although they are not loopback.
func Allow(hosts ...string) Option {
	return func(c *config) {
		for _, h := range hosts {
			c.allow[strings.ToLower(strings.Trim(h, "[]"))] = true
		}
	}
}

// WithResolver replaces the system resolver (tests).
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// Check returns nil when target may receive a replay: its host is in the
// allow list, or it is "localhost", or every address it resolves to is
// loopback (127.0.0.0/8, ::1). Otherwise the error says why and how to
// allow it.
func Check(ctx context.Context, target *url.URL, opts ...Option) error {
	c := config{allow: map[string]bool{}, resolver: net.DefaultResolver}
	for _, o := range opts {
		o(&c)
	}
	host := strings.ToLower(target.Hostname())
	if host == "" {
		return fmt.Errorf("%w: %q has no host", ErrRefused, target.String())
	}
	if c.allow[host] {
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return nil
	}
	hint := fmt.Sprintf("replays go only to loopback addresses unless allowed; if %s is a staging target, pass --allow-target %s", host, host)
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Unmap().IsLoopback() {
			return nil
		}
		return fmt.Errorf("%w: %s is not a loopback address; %s", ErrRefused, host, hint)
	}
	addrs, err := c.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: resolve %s: %v; %s", ErrRefused, host, err, hint)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s resolves to no address; %s", ErrRefused, host, hint)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("%w: %s resolves to %s, not loopback; %s", ErrRefused, host, a, hint)
		}
	}
	return nil
}
