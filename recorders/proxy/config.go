package proxy

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/recorders/sink"
)

// Defaults for Config.
const (
	DefaultShutdownGrace = 10 * time.Second
	DefaultRecorderName  = "reprise record"
)

// Config is what a Recorder needs. The zero values of the optional fields
// mean their defaults.
type Config struct {
	// Listen is the address the proxy accepts clients on ("127.0.0.1:8080",
	// ":0" for any free port).
	Listen string
	// Upstream is the http:// or https:// URL requests are forwarded to.
	Upstream string
	// Out is the recording file to create (truncated if it exists).
	Out string
	// Admin, when set, serves /metrics and /healthz on its own address.
	Admin string
	// TLSCertFile and TLSKeyFile, both or neither, make the proxy speak
	// TLS (HTTP/2 and HTTP/1.1 by ALPN) to clients.
	TLSCertFile, TLSKeyFile string
	// UpstreamInsecure skips verification of the upstream's certificate
	// (self-signed staging).
	UpstreamInsecure bool
	// BodyCap is the bytes captured per body or message; 0 means
	// DefaultBodyCap and a negative value captures sizes only.
	BodyCap int64
	// SessionChain is the session extractor chain spec; empty means the
	// session package's default.
	SessionChain string
	// RedactHeaders, RedactQuery and RedactFields extend the default
	// redaction policy.
	RedactHeaders, RedactQuery, RedactFields []string
	// RedactionKeyFile holds the redaction key (at least 16 bytes after
	// trimming white space); empty means a random key per recording.
	RedactionKeyFile string
	// FlushInterval and FsyncInterval bound what a crash of the process or
	// of the host loses. Zero means the defaults (200ms, 1s).
	FlushInterval, FsyncInterval time.Duration
	// QueueSize is how many exchanges may wait for the writer before new
	// ones are dropped; 0 means sink.DefaultQueueCapacity.
	QueueSize int
	// ShutdownGrace bounds how long Shutdown lets in-flight requests finish.
	ShutdownGrace time.Duration
	// Recorder names the tool in the file header ("reprise record v0.1.0").
	Recorder string
	// Labels are copied into the file header.
	Labels map[string]string
}

// Validate checks the configuration without touching the file system or the
// network. Errors name the field and wrap ErrConfig.
func (c *Config) Validate() error {
	if err := checkAddr("listen", c.Listen, true); err != nil {
		return err
	}
	if err := checkAddr("admin", c.Admin, false); err != nil {
		return err
	}
	if _, err := c.upstreamURL(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Out) == "" {
		return configErr("out: a recording file is required")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return configErr("tls-cert and tls-key: give both or neither")
	}
	if c.FlushInterval < 0 {
		return configErr("flush-interval: %v is negative", c.FlushInterval)
	}
	if c.FsyncInterval < 0 {
		return configErr("fsync-interval: %v is negative", c.FsyncInterval)
	}
	if c.ShutdownGrace < 0 {
		return configErr("shutdown-grace: %v is negative", c.ShutdownGrace)
	}
	if c.QueueSize < 0 {
		return configErr("queue-size: %d is negative", c.QueueSize)
	}
	for field, names := range map[string][]string{
		"redact-header": c.RedactHeaders, "redact-query": c.RedactQuery, "redact-field": c.RedactFields,
	} {
		for i, n := range names {
			if strings.TrimSpace(n) == "" {
				return configErr("%s[%d]: empty name", field, i)
			}
		}
	}
	if _, err := parseSessions(c.SessionChain); err != nil {
		return configErr("session-chain: %v", err)
	}
	return nil
}

func checkAddr(field, addr string, required bool) error {
	if addr == "" {
		if required {
			return configErr("%s: an address (host:port) is required", field)
		}
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return configErr("%s: %q: %v", field, addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return configErr("%s: %q: bad port %q", field, addr, port)
	}
	return nil
}

func (c *Config) upstreamURL() (*url.URL, error) {
	if c.Upstream == "" {
		return nil, configErr("upstream: a URL is required")
	}
	u, err := url.Parse(c.Upstream)
	if err != nil {
		return nil, configErr("upstream: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, configErr("upstream: %q: scheme must be http or https", c.Upstream)
	}
	if u.Host == "" {
		return nil, configErr("upstream: %q: no host", c.Upstream)
	}
	return u, nil
}

func (c Config) bodyCap() int64 {
	switch {
	case c.BodyCap == 0:
		return DefaultBodyCap
	case c.BodyCap < 0:
		return 0
	}
	return c.BodyCap
}

func (c Config) flushInterval() time.Duration {
	if c.FlushInterval == 0 {
		return sink.DefaultFlushInterval
	}
	return c.FlushInterval
}

func (c Config) fsyncInterval() time.Duration {
	if c.FsyncInterval == 0 {
		return sink.DefaultSyncInterval
	}
	return c.FsyncInterval
}

func (c Config) queueSize() int {
	if c.QueueSize == 0 {
		return sink.DefaultQueueCapacity
	}
	return c.QueueSize
}

func (c Config) shutdownGrace() time.Duration {
	if c.ShutdownGrace == 0 {
		return DefaultShutdownGrace
	}
	return c.ShutdownGrace
}

// headerConfig flattens the effective configuration for the file header.
func (c Config) headerConfig(listen string) map[string]string {
	m := map[string]string{
		"listen":         listen,
		"upstream":       c.Upstream,
		"body_cap":       strconv.FormatInt(c.bodyCap(), 10),
		"session_chain":  sessionSpec(c.SessionChain),
		"tls":            strconv.FormatBool(c.TLSCertFile != ""),
		"flush_interval": c.flushInterval().String(),
		"fsync_interval": c.fsyncInterval().String(),
		"queue_size":     strconv.Itoa(c.queueSize()),
	}
	if c.UpstreamInsecure {
		m["upstream_insecure"] = "true"
	}
	if c.Admin != "" {
		m["admin"] = c.Admin
	}
	if c.RedactionKeyFile != "" {
		m["redaction_key"] = "file"
	} else {
		m["redaction_key"] = "random"
	}
	return m
}
