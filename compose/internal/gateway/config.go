package gateway

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for Config.
const (
	DefaultBackendTimeout = 2 * time.Second
	DefaultTokenTTL       = 12 * time.Hour
	// MaxNARBytes is the largest NAR trace post accepted.
	MaxNARBytes = 1 << 20
	// PanicDivisor is the seeded fault's trigger: with FAULT_PANIC, buying
	// an item whose id is a multiple of it panics.
	PanicDivisor = 13
)

// ErrConfig is wrapped by every Config.Validate error.
var ErrConfig = errors.New("invalid gateway config")

// Config is the gateway's backends and behaviour. The seeded fault is a
// field so that tests switch it on directly.
type Config struct {
	// Marketplace, Missions and Indexer are gRPC targets (host:port).
	Marketplace string
	Missions    string
	Indexer     string
	// BackendTimeout bounds every backend call.
	BackendTimeout time.Duration
	// TokenTTL is how long a login token stays valid.
	TokenTTL time.Duration
	// Secret signs tokens; empty means a random per-process secret, so
	// tokens do not survive a restart.
	Secret []byte
	// FaultPanic makes POST /v1/items/{id}/buy panic when id is a multiple
	// of PanicDivisor (FAULT_PANIC=1).
	FaultPanic bool
}

// DefaultConfig is the gateway as the stack runs it.
func DefaultConfig() Config {
	return Config{
		Marketplace: "marketplace:9090", Missions: "missions:9090", Indexer: "indexer:9090",
		BackendTimeout: DefaultBackendTimeout, TokenTTL: DefaultTokenTTL,
	}
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Marketplace == "":
		return fmt.Errorf("%w: marketplace: an address is required", ErrConfig)
	case c.Missions == "":
		return fmt.Errorf("%w: missions: an address is required", ErrConfig)
	case c.Indexer == "":
		return fmt.Errorf("%w: indexer: an address is required", ErrConfig)
	case c.BackendTimeout <= 0:
		return fmt.Errorf("%w: backend-timeout: want > 0, got %s", ErrConfig, c.BackendTimeout)
	case c.TokenTTL <= 0:
		return fmt.Errorf("%w: token-ttl: want > 0, got %s", ErrConfig, c.TokenTTL)
	}
	return nil
}
