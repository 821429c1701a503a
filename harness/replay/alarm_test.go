package replay

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAlarmRings: an alarm rings once per Reset, not before its time, and
// a Reset replaces the time it was armed for.
func TestAlarmRings(t *testing.T) {
	for name, a := range map[string]alarm{"platform": newAlarm(), "timer": newTimerAlarm()} {
		t.Run(name, func(t *testing.T) {
			defer a.Stop()
			ringsOnTime(t, a)
			a.Reset(time.Hour)
			a.Reset(time.Millisecond) // replaces the hour
			select {
			case <-a.C():
			case <-time.After(10 * time.Second):
				t.Fatal("a Reset did not replace the earlier time")
			}
		})
	}
}

// ringsOnTime arms a three times for 2 ms and checks that it rings each
// time, never early.
func ringsOnTime(t *testing.T, a alarm) {
	t.Helper()
	for range 3 {
		start := time.Now()
		a.Reset(2 * time.Millisecond)
		select {
		case <-a.C():
		case <-time.After(10 * time.Second):
			t.Fatal("the alarm never rang")
		}
		assert.GreaterOrEqual(t, time.Since(start), 2*time.Millisecond, "never early")
	}
}

// BenchmarkAlarmLateness reports how late an alarm rings after a short
// wait in an otherwise idle process (median and p99, in µs): a time.Timer
// rides epoll_wait's millisecond timeout, the timerfd does not.
func BenchmarkAlarmLateness(b *testing.B) {
	for name, mk := range map[string]func() alarm{"platform": newAlarm, "timer": func() alarm { return newTimerAlarm() }} {
		b.Run(name, func(b *testing.B) {
			a := mk()
			defer a.Stop()
			late := make([]time.Duration, 0, b.N)
			for range b.N {
				const d = 300 * time.Microsecond
				start := time.Now()
				a.Reset(d)
				<-a.C()
				late = append(late, time.Since(start)-d)
			}
			slices.Sort(late)
			require.NotEmpty(b, late)
			b.ReportMetric(float64(late[len(late)/2].Microseconds()), "p50-late-µs")
			b.ReportMetric(float64(late[len(late)*99/100].Microseconds()), "p99-late-µs")
		})
	}
}
