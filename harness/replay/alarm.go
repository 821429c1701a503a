package replay

import "time"

// alarm wakes the dispatcher at a point of the run's clock. Go's timers
// wake an idle process through epoll_wait's timeout, which counts whole
// milliseconds: a request due in 0.2 ms would go out up to 0.8 ms late,
// and at thousands of requests per second that is the generator lag's
// whole tail. On Linux the alarm is a timerfd the runtime's poller
// watches, which wakes the reader at the nanosecond it is set for (see
// alarm_linux.go); elsewhere it is a time.Timer.
type alarm interface {
	// C receives after the alarm rings; a ring from before the last
	// Reset may still be there (the dispatcher re-checks the clock).
	C() <-chan struct{}
	// Reset arms the alarm to ring once, after d.
	Reset(d time.Duration)
	Stop()
}

// timerAlarm is the portable alarm.
type timerAlarm struct {
	t *time.Timer
	c chan struct{}
}

func newTimerAlarm() *timerAlarm {
	a := &timerAlarm{c: make(chan struct{}, 1)}
	a.t = time.AfterFunc(time.Hour, a.ring)
	a.t.Stop()
	return a
}

func (a *timerAlarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

func (a *timerAlarm) C() <-chan struct{}    { return a.c }
func (a *timerAlarm) Reset(d time.Duration) { a.t.Reset(d) }
func (a *timerAlarm) Stop()                 { a.t.Stop() }
