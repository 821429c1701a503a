package gcpace

import (
	"math/bits"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// DefaultMinPercent is the lowest GC percent Start sets unless MinPercent
// says otherwise. It bounds how often the GC runs when the live heap is far
// larger than the headroom: below it, GC CPU cost outweighs the memory saved.
const DefaultMinPercent = 10

// defaultPercent is Go's GOGC default; it is also the ceiling, because
// pacing only ever shrinks the headroom, never grows it past the default.
const defaultPercent = 100

const (
	metricLive = "/gc/heap/live:bytes"
	metricGOGC = "/gc/gogc:percent"
)

// active makes a second concurrent Start a no-op: two pacers would overwrite
// each other's percent and each would restore a value the other had set.
var active atomic.Bool

type config struct {
	minPercent int
	onAdjust   func(percent int)
	lookupEnv  func(key string) (string, bool)
}

// Option configures Start.
type Option func(*config)

// MinPercent sets the floor for the GC percent (clamped to 1..100).
func MinPercent(p int) Option {
	return func(c *config) { c.minPercent = p }
}

// OnAdjust registers fn to be called with every GC percent the pacer sets.
// fn runs with the pacer's lock held, on the runtime's cleanup goroutine (or
// in Start), so it must be quick and must not block or call stop; in exchange
// it is never called after stop has returned.
func OnAdjust(fn func(percent int)) Option {
	return func(c *config) { c.onAdjust = fn }
}

// LookupEnv replaces os.LookupEnv for reading GOGC and GOMEMLIMIT, so tests
// can exercise the "user chose their own pacing" path without touching the
// process environment.
func LookupEnv(fn func(key string) (string, bool)) Option {
	return func(c *config) { c.lookupEnv = fn }
}

// Percent is the GC percent that puts the heap goal near live + headroom:
// ceil(100*headroom/live), clamped to [min, 100]. While the live heap is no
// larger than the headroom it is Go's default, 100. min is clamped to 1..100.
func Percent(live, headroom uint64, min int) int {
	min = clampMin(min)
	if live <= headroom {
		return defaultPercent
	}
	// headroom < live, so the quotient is below 100 and the high word of the
	// product is below live: bits.Div64 cannot overflow or panic.
	hi, lo := bits.Mul64(headroom, defaultPercent)
	q, r := bits.Div64(hi, lo, live)
	if r != 0 {
		q++
	}
	return max(int(q), min)
}

func clampMin(p int) int {
	return min(max(p, 1), defaultPercent)
}

// Start paces the GC so that the heap goal stays near live + headroom bytes
// and returns a function that stops pacing and restores the GC percent in
// effect at Start; stop is idempotent and, once it returns, the pacer never
// touches the GC percent again.
//
// Start does nothing (stop is a no-op) when headroom is 0, when GOGC or
// GOMEMLIMIT is set in the environment (the user chose their own pacing),
// when the GC is disabled, or while another pacer is active.
func Start(headroom uint64, opts ...Option) (stop func()) {
	p := start(headroom, opts)
	if p == nil {
		return func() {}
	}
	return p.stop
}

// Pacing reports whether a pacer is active: Start did something, and its
// stop has not been called.
func Pacing() bool { return active.Load() }

// HandBack returns the memory the heap has freed to the OS when a pacer
// runs: called once a large working set is built, it leaves the peak to
// what follows. It does nothing otherwise, so a user's own GOGC or
// GOMEMLIMIT is left alone.
func HandBack() {
	if Pacing() {
		debug.FreeOSMemory()
	}
}

// start is Start returning the pacer itself (nil when it does nothing), so
// tests can drive the cleanup chain by hand.
func start(headroom uint64, opts []Option) *pacer {
	if headroom == 0 {
		return nil
	}
	cfg := config{minPercent: DefaultMinPercent, lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&cfg)
	}
	for _, key := range []string{"GOGC", "GOMEMLIMIT"} {
		// The runtime treats an empty value as unset, so do we.
		if v, ok := cfg.lookupEnv(key); ok && v != "" {
			return nil
		}
	}
	if !active.CompareAndSwap(false, true) {
		return nil
	}

	p := &pacer{
		headroom:   headroom,
		minPercent: clampMin(cfg.minPercent),
		onAdjust:   cfg.onAdjust,
		samples:    []metrics.Sample{{Name: metricLive}, {Name: metricGOGC}},
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	metrics.Read(p.samples)
	orig, ok := readInt(p.samples[1])
	if !ok || orig < 0 {
		// GC switched off (or unreadable): pacing would switch it back on.
		active.Store(false)
		return nil
	}
	p.original, p.current = orig, orig
	// Pace right away on the live heap of the last GC: a plan built before
	// Start should not have to wait a whole default-paced cycle.
	p.adjustLocked()
	p.armLocked()
	return p
}

// pacer is the state shared by Start, stop and the cleanup chain. Cleanups
// may run concurrently with each other and with stop, hence the mutex.
type pacer struct {
	headroom   uint64
	minPercent int
	onAdjust   func(int)

	mu       sync.Mutex
	stopped  bool
	original int // GC percent at Start, restored by stop
	current  int // GC percent last set by this pacer (or original)
	pending  runtime.Cleanup
	samples  []metrics.Sample // reused so that adjusting does not allocate
}

// sentinel is a GC detector: it is dropped as soon as it is allocated, so its
// cleanup runs after the next GC cycle. It holds a pointer and is 16 bytes so
// it is never a tiny, pointer-free allocation that the runtime may batch
// with live objects (whose cleanup might then never run).
type sentinel struct {
	_ *sentinel
	_ [8]byte
}

// armLocked attaches the next link of the chain to a fresh, unreachable
// sentinel.
func (p *pacer) armLocked() {
	p.pending = runtime.AddCleanup(new(sentinel), (*pacer).afterGC, p)
}

// afterGC runs on a runtime cleanup goroutine after a GC cycle. Usually that
// is every cycle; when it runs late, during the next cycle's mark phase, the
// new sentinel is allocated black and the chain skips that cycle, which only
// delays pacing by one cycle.
func (p *pacer) afterGC() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		// stop could not cancel this link because it was already queued;
		// end the chain here.
		return
	}
	metrics.Read(p.samples[:1])
	p.adjustLocked()
	p.armLocked()
}

// adjustLocked sets the GC percent for the live heap in p.samples[0].
func (p *pacer) adjustLocked() {
	live, ok := readUint(p.samples[0])
	if !ok {
		return
	}
	target := Percent(live, p.headroom, p.minPercent)
	if !worthChanging(p.current, target) {
		return
	}
	debug.SetGCPercent(target)
	p.current = target
	if p.onAdjust != nil {
		p.onAdjust(target)
	}
}

// worthChanging reports whether moving the GC percent from current to target
// is worth a SetGCPercent call. With percent ~ 100*headroom/live, a relative
// change of the percent is the same relative change of the bytes allowed
// between GCs, so a 5% dead band keeps small live-heap wobble from causing
// churn while any change that matters gets through.
func worthChanging(current, target int) bool {
	if current == target {
		return false
	}
	if current <= 0 {
		return true
	}
	diff := target - current
	if diff < 0 {
		diff = -diff
	}
	return diff*20 > current
}

func (p *pacer) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	// Drops the runtime's reference to p unless the link is already queued,
	// in which case afterGC sees stopped and returns.
	p.pending.Stop()
	debug.SetGCPercent(p.original)
	p.current = p.original
	active.Store(false)
}

func readUint(s metrics.Sample) (uint64, bool) {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s.Value.Uint64(), true
}

func readInt(s metrics.Sample) (int, bool) {
	v, ok := readUint(s)
	// /gc/gogc:percent is reported as uint64; GOGC=off (-1) wraps around.
	return int(int64(v)), ok
}
