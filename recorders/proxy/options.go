package proxy

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reprise-dev/reprise/recorders/redact"
)

// Capture limits. A body or message larger than its cap is recorded as its
// prefix with the truncated flag and its full size.
const (
	// DefaultBodyCap bounds the bytes captured per body, gRPC message or
	// WebSocket frame.
	DefaultBodyCap = 1 << 20
	// DefaultExchangeCap bounds the bytes captured over all the messages of one
	// gRPC call or WebSocket connection.
	DefaultExchangeCap = 8 << 20
	// DefaultMaxMessages bounds the messages recorded per exchange; later ones
	// are counted in the body size but not listed.
	DefaultMaxMessages = 10000
)

// Option configures a Proxy.
type Option func(*Proxy)

// BodyCap sets the bytes captured per body, gRPC message or WebSocket frame.
// Zero records sizes only.
func BodyCap(n int64) Option {
	return func(p *Proxy) {
		if n >= 0 {
			p.bodyCap = n
		}
	}
}

// ExchangeCap sets the bytes captured over all messages of one stream.
func ExchangeCap(n int64) Option {
	return func(p *Proxy) {
		if n >= 0 {
			p.exchangeCap = n
		}
	}
}

// MaxMessages sets how many gRPC messages or WebSocket frames one exchange
// lists; later ones are only counted in sizes. 0 means no limit.
func MaxMessages(n int) Option {
	return func(p *Proxy) {
		if n >= 0 {
			p.maxMessages = n
		}
	}
}

// Redactor makes the proxy redact each exchange before it reaches the sink,
// and hide secret-derived session keys behind the redactor's placeholders.
// Recorder instead redacts in the queue's consumer, off the traffic path.
func Redactor(r *redact.Redactor) Option { return func(p *Proxy) { p.redactor = r } }

// Anchor sets the monotonic origin of every *_ns offset. It must carry a
// monotonic reading (time.Now() does), and the file header's Clock must name
// the same instant.
func Anchor(t time.Time) Option { return func(p *Proxy) { p.anchor = t } }

// Metrics registers the proxy's metrics with reg.
func Metrics(reg prometheus.Registerer) Option { return func(p *Proxy) { p.reg = reg } }

// Logger sets the logger for upstream errors and capture trouble.
func Logger(l *slog.Logger) Option {
	return func(p *Proxy) {
		if l != nil {
			p.log = l
		}
	}
}

// UpstreamTLS sets the TLS configuration for an https:// upstream.
func UpstreamTLS(c *tls.Config) Option { return func(p *Proxy) { p.upstreamTLS = c } }
