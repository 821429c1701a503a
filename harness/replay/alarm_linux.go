package replay

import (
	"encoding/binary"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdAlarm is a timerfd read by a goroutine through the runtime's poller:
// its expiry is an fd event, delivered when it happens, not at the next
// whole millisecond.
type fdAlarm struct {
	fd   int
	f    *os.File
	c    chan struct{}
	done chan struct{}
}

// newAlarm returns a timerfd alarm, or the portable one when the kernel
// refuses a timerfd.
func newAlarm() alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimerAlarm()
	}
	// A non-blocking fd makes a pollable File: Read parks the goroutine
	// in the poller instead of blocking a thread.
	a := &fdAlarm{fd: fd, f: os.NewFile(uintptr(fd), "replay-alarm"), c: make(chan struct{}, 1), done: make(chan struct{})}
	go a.read()
	return a
}

func (a *fdAlarm) read() {
	defer close(a.done)
	var buf [8]byte
	for {
		n, err := a.f.Read(buf[:])
		if err != nil {
			return // closed by Stop
		}
		if n == 8 && binary.NativeEndian.Uint64(buf[:]) > 0 {
			select {
			case a.c <- struct{}{}:
			default:
			}
		}
	}
}

func (a *fdAlarm) C() <-chan struct{} { return a.c }

func (a *fdAlarm) Reset(d time.Duration) {
	d = max(d, time.Microsecond) // zero would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(a.fd, 0, &spec, nil); err != nil {
		a.ring() // never leave the dispatcher asleep: an early ring is re-checked
	}
}

func (a *fdAlarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

// Stop closes the timerfd and waits for its reader to end.
func (a *fdAlarm) Stop() {
	a.f.Close()
	<-a.done
}
