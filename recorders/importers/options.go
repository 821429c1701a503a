package importers

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// Defaults for the options.
const (
	// DefaultBodyCap is the most bytes of one body kept in a record.
	DefaultBodyCap = 1 << 20
	// DefaultMaxEntryBytes bounds one .gor record and one decoded HAR body.
	DefaultMaxEntryBytes = 64 << 20
	// DefaultMaxPending bounds the .gor requests (and early responses) held
	// while they wait for their other half.
	DefaultMaxPending = 100_000
	// DefaultMaxPendingBytes bounds the bytes those waiting messages hold.
	DefaultMaxPendingBytes = 512 << 20
	// MaxReportedErrors is how many skipped-entry errors Stats keeps.
	MaxReportedErrors = 20
)

// NewSinkFunc is called by an importer exactly once, with the finished file
// header, before it writes the first record; the importer then writes every
// record through the returned sink.
type NewSinkFunc func(ctx context.Context, hdr *rprpb.FileHeader) (sink.Sink, error)

// Config is the resolved set of options. Importers build it with NewConfig.
type Config struct {
	Sessions    session.Chain
	Redactor    *redact.Redactor
	BodyCap     int
	SkipInvalid bool
	// MaxInputBytes bounds the whole input; 0 means the importer's default
	// (HAR is held in memory and has one; .gor is streamed and has none).
	MaxInputBytes int64
	MaxEntryBytes int64
	MaxPending    int
	// MaxPendingBytes bounds the bytes of the waiting .gor messages.
	MaxPendingBytes int64
	Labels          map[string]string
}

// Option configures an import.
type Option func(*Config)

// WithSessions sets the session extractor chain (default session.Default()).
func WithSessions(c session.Chain) Option { return func(cfg *Config) { cfg.Sessions = c } }

// WithRedactor sets the redactor (default redact.New(redact.DefaultPolicy())
// with a fresh random key). A nil redactor keeps the default: imports are
// always redacted.
func WithRedactor(r *redact.Redactor) Option {
	return func(cfg *Config) {
		if r != nil {
			cfg.Redactor = r
		}
	}
}

// WithBodyCap sets the most bytes of one body kept in a record (default
// DefaultBodyCap). Bodies beyond it are cut and marked truncated.
func WithBodyCap(n int) Option {
	return func(cfg *Config) {
		if n > 0 {
			cfg.BodyCap = n
		}
	}
}

// SkipInvalid makes the importer skip and count a bad entry or record instead
// of failing the import.
func SkipInvalid(skip bool) Option { return func(cfg *Config) { cfg.SkipInvalid = skip } }

// MaxInputBytes bounds the whole input; exceeding it fails with ErrLimit.
func MaxInputBytes(n int64) Option {
	return func(cfg *Config) {
		if n > 0 {
			cfg.MaxInputBytes = n
		}
	}
}

// MaxEntryBytes bounds one .gor record and one decoded HAR body (default
// DefaultMaxEntryBytes).
func MaxEntryBytes(n int64) Option {
	return func(cfg *Config) {
		if n > 0 {
			cfg.MaxEntryBytes = n
		}
	}
}

// MaxPending bounds the .gor messages waiting for their other half (default
// DefaultMaxPending); beyond it the oldest is given up as unpaired.
func MaxPending(n int) Option {
	return func(cfg *Config) {
		if n > 0 {
			cfg.MaxPending = n
		}
	}
}

// MaxPendingBytes bounds the bytes held by the .gor messages waiting for
// their other half (default DefaultMaxPendingBytes); beyond it the oldest is
// given up as unpaired.
func MaxPendingBytes(n int64) Option {
	return func(cfg *Config) {
		if n > 0 {
			cfg.MaxPendingBytes = n
		}
	}
}

// Labels sets the header's free-form labels.
func Labels(l map[string]string) Option { return func(cfg *Config) { cfg.Labels = maps.Clone(l) } }

// NewConfig applies the options over the defaults. It creates the default
// redactor, with a fresh key, when none was given.
func NewConfig(opts ...Option) (*Config, error) {
	cfg := &Config{
		BodyCap:         DefaultBodyCap,
		MaxEntryBytes:   DefaultMaxEntryBytes,
		MaxPending:      DefaultMaxPending,
		MaxPendingBytes: DefaultMaxPendingBytes,
	}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.Sessions == nil {
		cfg.Sessions = session.Default()
	}
	if cfg.Redactor == nil {
		r, err := redact.New(redact.DefaultPolicy())
		if err != nil {
			return nil, fmt.Errorf("importers: default redactor: %w", err)
		}
		cfg.Redactor = r
	}
	return cfg, nil
}

// Header returns the file header of an import by the named recorder ("har",
// "gor") of the input called source, with times offset from anchor.
func (c *Config) Header(format, source string, anchorUnixNano int64) *rprpb.FileHeader {
	conf := map[string]string{
		"format":          format,
		"source":          source,
		"body_cap":        strconv.Itoa(c.BodyCap),
		"session_chain":   c.Sessions.String(),
		"skip_invalid":    strconv.FormatBool(c.SkipInvalid),
		"max_entry_bytes": strconv.FormatInt(c.MaxEntryBytes, 10),
	}
	if c.MaxInputBytes > 0 {
		conf["max_input_bytes"] = strconv.FormatInt(c.MaxInputBytes, 10)
	}
	if format == "gor" {
		conf["max_pending"] = strconv.Itoa(c.MaxPending)
		conf["max_pending_bytes"] = strconv.FormatInt(c.MaxPendingBytes, 10)
	}
	return &rprpb.FileHeader{
		FormatVersion:   recording.FormatVersion,
		CreatedUnixNano: time.Now().UnixNano(),
		Recorder:        "reprise import " + format,
		RecorderConfig:  conf,
		Redaction:       c.Redactor.Policy(),
		Clock:           &rprpb.Clock{Source: "imported", AnchorUnixNano: anchorUnixNano},
		Labels:          maps.Clone(c.Labels),
	}
}
