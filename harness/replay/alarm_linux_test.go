package replay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// failingReader stands for a timerfd the runtime's poller refused: a
// non-blocking read then fails at once instead of waiting.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// TestAlarmFallsBackWhenTheTimerfdBreaks: once the timerfd's reader has
// failed, nothing reads the timerfd; the alarm must still ring, on time,
// or the dispatcher would sleep until the run is cancelled.
func TestAlarmFallsBackWhenTheTimerfdBreaks(t *testing.T) {
	a := newFDAlarm(failingReader{unix.EAGAIN})
	require.NotNil(t, a, "the kernel refused a timerfd")
	defer a.Stop()
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the reader never saw its error")
	}
	select { // the wake-up that tells a sleeper to re-arm
	case <-a.C():
	default:
	}
	ringsOnTime(t, a)
}

// TestAlarmFallsBackWhenTheTimerfdCannotBeArmed: a timerfd the kernel will
// not arm hands over to the timer, which rings on time, not at once.
func TestAlarmFallsBackWhenTheTimerfdCannotBeArmed(t *testing.T) {
	a := newFDAlarm(nil)
	require.NotNil(t, a, "the kernel refused a timerfd")
	defer a.Stop()
	fd := a.fd
	a.fd = -1 // what settime is given from now on: EBADF
	defer func() { a.fd = fd }()
	ringsOnTime(t, a)
	assert.True(t, a.broken.Load())
}
