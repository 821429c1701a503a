package stack

import (
	"time"
)

// Defaults shared by the drivers.
const (
	DefaultID           = "default"
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 10 * time.Second
)

// Options are the settings every driver understands. Drivers ignore what
// does not apply to them.
type Options struct {
	// ID names this stack instance; the compose driver labels everything it
	// creates with it, so separate commands find the same stack.
	ID           string
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
	// ModuleRoot is the reprise module checkout (local driver: where to
	// build the services from). Empty: found from the working directory.
	ModuleRoot string
	// BinDir holds prebuilt service binaries named after the services
	// (local driver). Empty: build them into the user cache.
	BinDir string
	// Env is added to every service's environment (e.g. FAULT_BUY_RACE=1).
	Env map[string]string
}

// Option changes Options.
type Option func(*Options)

// NewOptions applies opts over the defaults.
func NewOptions(opts ...Option) Options {
	o := Options{ID: DefaultID, ReadyTimeout: DefaultReadyTimeout, StopTimeout: DefaultStopTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ID names the stack instance.
func ID(id string) Option { return func(o *Options) { o.ID = id } }

// ReadyTimeout bounds how long Up (and a restart) waits for readiness.
func ReadyTimeout(d time.Duration) Option { return func(o *Options) { o.ReadyTimeout = d } }

// StopTimeout is the grace period between a polite stop and a kill.
func StopTimeout(d time.Duration) Option { return func(o *Options) { o.StopTimeout = d } }

// ModuleRoot sets the module checkout the local driver builds from.
func ModuleRoot(dir string) Option { return func(o *Options) { o.ModuleRoot = dir } }

// BinDir makes the local driver use prebuilt binaries from dir.
func BinDir(dir string) Option { return func(o *Options) { o.BinDir = dir } }

// Env adds one environment variable to every service.
func Env(key, value string) Option {
	return func(o *Options) {
		if o.Env == nil {
			o.Env = map[string]string{}
		}
		o.Env[key] = value
	}
}
