package procs

import (
	"os"
	"runtime"
	"sync/atomic"
)

// active makes a Scale made while another is in effect a no-op: the two
// restores, run in either order, could otherwise leave the other's value.
var active atomic.Bool

// MaxPerCPU bounds Scale's factor: far past a few Ps per CPU the threads
// only contend, and the GC's workers (a quarter of the Ps) crowd the CPUs.
const MaxPerCPU = 16

type config struct {
	lookupEnv func(string) (string, bool)
}

// Option configures Scale.
type Option func(*config)

// LookupEnv replaces os.LookupEnv for reading GOMAXPROCS, so that tests can
// exercise the path where the user chose it without touching the process
// environment.
func LookupEnv(fn func(key string) (string, bool)) Option {
	return func(c *config) { c.lookupEnv = fn }
}

// Scale sets GOMAXPROCS to perCPU times what it is (Go's default counts
// the CPUs the process may use, its cgroup's quota included), perCPU
// clamped to MaxPerCPU, and returns the function that undoes it: it
// gives GOMAXPROCS back to Go (runtime.SetDefaultGOMAXPROCS), which
// follows the CPU quota again, as setting it had stopped it doing.
// perCPU 1 or less, GOMAXPROCS set in the environment (the runtime takes
// an empty value as unset, and so does Scale), or another Scale not yet
// undone leaves it alone.
func Scale(perCPU int, opts ...Option) (restore func()) {
	cfg := config{lookupEnv: os.LookupEnv}
	for _, o := range opts {
		o(&cfg)
	}
	if v, set := cfg.lookupEnv("GOMAXPROCS"); (set && v != "") || perCPU <= 1 || !active.CompareAndSwap(false, true) {
		return func() {}
	}
	perCPU = min(perCPU, MaxPerCPU)
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) * perCPU)
	return func() {
		runtime.SetDefaultGOMAXPROCS()
		active.Store(false)
	}
}
