package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

const (
	mib = 1 << 20
	// waitTimeout only bounds a broken test; a healthy one is done in
	// milliseconds.
	waitTimeout = 30 * time.Second
)

func TestPercent(t *testing.T) {
	const h = 64 * mib
	tests := []struct {
		name           string
		live, headroom uint64
		min            int
		want           int
	}{
		{"no GC yet", 0, h, 10, 100},
		{"live below headroom", h / 2, h, 10, 100},
		{"live equals headroom", h, h, 10, 100},
		{"live twice headroom", 2 * h, h, 10, 50},
		{"live four times headroom", 4 * h, h, 10, 25},
		{"rounds up", 3 * h, h, 10, 34},
		{"floor", 100 * h, h, 10, 10},
		{"custom floor", 100 * h, h, 5, 5},
		{"floor below 1 clamps to 1", 1000 * h, h, 0, 1},
		{"floor above 100 clamps to 100", 4 * h, h, 500, 100},
		{"no overflow near MaxUint64", math.MaxUint64, math.MaxUint64 - 1, 10, 100},
		{"no overflow for huge headroom", 1 << 63, 1 << 62, 10, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.live, tt.headroom, tt.min); got != tt.want {
				t.Errorf("Percent(%d, %d, %d) = %d, want %d", tt.live, tt.headroom, tt.min, got, tt.want)
			}
		})
	}
}

func TestWorthChanging(t *testing.T) {
	tests := []struct {
		current, target int
		want            bool
	}{
		{100, 100, false},
		{100, 97, false}, // within the 5% dead band
		{100, 94, true},
		{25, 24, false},
		{25, 23, true},
		{10, 11, true}, // 10% of a small percent is a real change
		{13, 100, true},
		{-1, 50, true},
	}
	for _, tt := range tests {
		if got := worthChanging(tt.current, tt.target); got != tt.want {
			t.Errorf("worthChanging(%d, %d) = %v, want %v", tt.current, tt.target, got, tt.want)
		}
	}
}

// TestStartPacesAfterGC proves the cleanup chain: after Start, a GC that
// sees a live heap of several headrooms lowers the GC percent to match, a
// later GC that sees it gone raises it back, and stop restores the original
// percent and ends the chain.
func TestStartPacesAfterGC(t *testing.T) {
	const headroom = 8 * mib
	setGCPercent(t, 150)
	adjusts := make(chan int, 64)
	stop := Start(headroom, noEnv(), OnAdjust(recordTo(adjusts)))
	t.Cleanup(stop)

	// Start adjusts synchronously; the test binary's own live heap is far
	// below the headroom, hence Go's default.
	select {
	case got := <-adjusts:
		if got != 100 {
			t.Fatalf("first adjustment = %d, want 100 (live below headroom)", got)
		}
	default:
		t.Fatal("Start did not adjust the GC percent")
	}

	big := make([]byte, 64*mib)
	// live is 64 MiB plus the test binary's few MiB: percent 12 or 13.
	got := gcUntilAdjust(t, adjusts, func(p int) bool { return p == 12 || p == 13 })
	if now := gcPercent(t); now != got {
		t.Errorf("GC percent = %d after OnAdjust(%d)", now, got)
	}
	runtime.KeepAlive(big)

	// A later cycle sees the plan gone: the chain re-armed itself and goes
	// back to Go's default.
	gcUntilAdjust(t, adjusts, func(p int) bool { return p == 100 })
	if now := gcPercent(t); now != 100 {
		t.Errorf("GC percent = %d after OnAdjust(100)", now)
	}

	stop()
	if now := gcPercent(t); now != 150 {
		t.Fatalf("GC percent after stop = %d, want the original 150", now)
	}
	stop() // idempotent
	if now := gcPercent(t); now != 150 {
		t.Fatalf("GC percent after second stop = %d, want 150", now)
	}

	// stop restored 150, so a pacer still running would set 100 again on
	// these cycles.
	waitGC(t)
	waitGC(t)
	noAdjustment(t, adjusts, "after stop")
	if now := gcPercent(t); now != 150 {
		t.Fatalf("GC percent = %d after GCs following stop, want 150", now)
	}
}

// TestStoppedPacerIgnoresQueuedCleanup covers the link that stop cannot
// cancel because the runtime already queued it: it must not touch the GC
// percent.
func TestStoppedPacerIgnoresQueuedCleanup(t *testing.T) {
	setGCPercent(t, 150)
	runtime.GC() // make /gc/heap/live:bytes non-zero
	adjusts := make(chan int, 64)
	p := start(1, []Option{noEnv(), OnAdjust(recordTo(adjusts))})
	if p == nil {
		t.Fatal("start did nothing")
	}
	select {
	case got := <-adjusts:
		if got != DefaultMinPercent {
			t.Fatalf("adjustment = %d, want the floor %d", got, DefaultMinPercent)
		}
	default:
		t.Fatal("start did not adjust the GC percent")
	}
	p.stop()

	p.afterGC() // as if the runtime had queued the link before stop

	noAdjustment(t, adjusts, "from a stopped pacer")
	if now := gcPercent(t); now != 150 {
		t.Fatalf("GC percent = %d, want 150", now)
	}
}

// TestStartNoop proves the cases where Start must leave the GC alone. With
// headroom 1 byte a working pacer would set the floor synchronously in
// Start, so no waiting is needed to see that it did not.
func TestStartNoop(t *testing.T) {
	env := func(key, value string) Option {
		return LookupEnv(func(k string) (string, bool) {
			if k == key {
				return value, true
			}
			return "", false
		})
	}
	tests := []struct {
		name     string
		headroom uint64
		percent  int
		opt      Option
	}{
		{"zero headroom", 0, 150, noEnv()},
		{"GOGC set", 1, 150, env("GOGC", "200")},
		{"GOMEMLIMIT set", 1, 150, env("GOMEMLIMIT", "1GiB")},
		{"GC off", 1, -1, noEnv()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.GC() // make /gc/heap/live:bytes non-zero
			setGCPercent(t, tt.percent)
			adjusts := make(chan int, 64)
			stop := Start(tt.headroom, tt.opt, OnAdjust(recordTo(adjusts)))
			if now := gcPercent(t); now != tt.percent {
				t.Errorf("GC percent after Start = %d, want %d untouched", now, tt.percent)
			}
			stop()
			noAdjustment(t, adjusts, "from a pacer that should do nothing")
			if now := gcPercent(t); now != tt.percent {
				t.Errorf("GC percent after stop = %d, want %d", now, tt.percent)
			}
		})
	}
}

// TestStartEmptyEnvIsUnset matches the runtime, which ignores GOGC="".
func TestStartEmptyEnvIsUnset(t *testing.T) {
	runtime.GC()
	setGCPercent(t, 150)
	empty := LookupEnv(func(string) (string, bool) { return "", true })
	stop := Start(1, empty)
	t.Cleanup(stop)
	if now := gcPercent(t); now != DefaultMinPercent {
		t.Fatalf("GC percent = %d, want the floor %d", now, DefaultMinPercent)
	}
}

// TestStartWhileActive proves a second pacer cannot fight the first, and
// that stop frees the slot.
func TestStartWhileActive(t *testing.T) {
	runtime.GC()
	setGCPercent(t, 150)
	if Pacing() {
		t.Fatal("Pacing before any Start")
	}
	stop1 := Start(1, noEnv(), MinPercent(20))
	t.Cleanup(stop1)
	if now := gcPercent(t); now != 20 {
		t.Fatalf("GC percent = %d, want 20 from the first pacer", now)
	}
	if !Pacing() {
		t.Fatal("not Pacing after Start")
	}

	stop2 := Start(1, noEnv(), MinPercent(30))
	if now := gcPercent(t); now != 20 {
		t.Fatalf("GC percent = %d after a second Start, want 20", now)
	}
	stop2()
	if now := gcPercent(t); now != 20 {
		t.Fatalf("GC percent = %d after the second stop, want 20", now)
	}

	stop1()
	if now := gcPercent(t); now != 150 {
		t.Fatalf("GC percent = %d after stop, want 150", now)
	}
	if Pacing() {
		t.Fatal("Pacing after stop")
	}
	stop3 := Start(1, noEnv(), MinPercent(30))
	t.Cleanup(stop3)
	if now := gcPercent(t); now != 30 {
		t.Fatalf("GC percent = %d, want 30 from a pacer started after stop", now)
	}
}

func noEnv() Option {
	return LookupEnv(func(string) (string, bool) { return "", false })
}

// recordTo never blocks: OnAdjust runs under the pacer's lock.
// noAdjustment fails the test if the pacer reported an adjustment on
// adjusts.
func noAdjustment(t *testing.T, adjusts <-chan int, what string) {
	t.Helper()
	select {
	case got := <-adjusts:
		t.Fatalf("OnAdjust(%d) %s", got, what)
	default:
	}
}

func recordTo(ch chan<- int) func(int) {
	return func(p int) {
		select {
		case ch <- p:
		default:
		}
	}
}

// gcUntilAdjust runs GC cycles until the pacer reports a percent that want
// accepts. One runtime.GC is not always enough: when the previous link's
// cleanup runs late, during the next cycle's mark phase, the new sentinel
// is allocated black and only dies a cycle later.
func gcUntilAdjust(t *testing.T, adjusts <-chan int, want func(int) bool) int {
	t.Helper()
	const maxCycles = 50
	for range maxCycles {
		waitGC(t)
		for drained := false; !drained; {
			select {
			case p := <-adjusts:
				if want(p) {
					return p
				}
			default:
				drained = true
			}
		}
	}
	t.Fatalf("no matching adjustment after %d GC cycles", maxCycles)
	return 0
}

// waitGC runs a GC and waits until the runtime has run the cleanups it
// queued, using a sentinel of our own.
func waitGC(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	runtime.AddCleanup(new(sentinel), func(ch chan struct{}) { close(ch) }, done)
	runtime.GC()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("sentinel cleanup did not run after runtime.GC")
	}
}

// setGCPercent sets the GC percent for one test and restores it after.
func setGCPercent(t *testing.T, p int) {
	t.Helper()
	old := debug.SetGCPercent(p)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

// gcPercent reads the GC percent without changing it, unlike SetGCPercent.
func gcPercent(t *testing.T) int {
	t.Helper()
	s := []metrics.Sample{{Name: metricGOGC}}
	metrics.Read(s)
	p, ok := readInt(s[0])
	if !ok {
		t.Fatal("cannot read " + metricGOGC)
	}
	return p
}
