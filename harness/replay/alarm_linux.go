package replay

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// fdAlarm is a timerfd read by a goroutine through the runtime's poller:
// its expiry is an fd event, delivered when it happens, not at the next
// whole millisecond.
//
// Should the reader fail other than by Stop's close (the poller refused
// the fd, say, so that reads return EAGAIN at once instead of waiting),
// nothing would ever ring again and the dispatcher would sleep until the
// run is cancelled. The alarm then falls back to a time.Timer for the rest
// of its life: late by up to a millisecond, but never silent.
type fdAlarm struct {
	fd   int
	f    *os.File
	src  io.Reader // the timerfd's reads: f, or a test's broken stand-in
	c    chan struct{}
	done chan struct{}

	broken   atomic.Bool
	fallback *time.Timer // rings once broken
}

// newAlarm returns a timerfd alarm, or the portable one when the kernel
// refuses a timerfd.
func newAlarm() alarm {
	a := newFDAlarm(nil)
	if a == nil {
		return newTimerAlarm()
	}
	return a
}

// newFDAlarm returns a timerfd alarm, nil when the kernel refuses one.
// src, when not nil, stands for the timerfd's reads.
func newFDAlarm(src io.Reader) *fdAlarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	// A non-blocking fd makes a pollable File: Read parks the goroutine
	// in the poller instead of blocking a thread.
	a := &fdAlarm{fd: fd, f: os.NewFile(uintptr(fd), "replay-alarm"), src: src,
		c: make(chan struct{}, 1), done: make(chan struct{})}
	if a.src == nil {
		a.src = a.f
	}
	a.fallback = time.AfterFunc(time.Hour, a.ring)
	a.fallback.Stop()
	go a.read()
	return a
}

func (a *fdAlarm) read() {
	defer close(a.done)
	var buf [8]byte
	for {
		n, err := a.src.Read(buf[:])
		if errors.Is(err, os.ErrClosed) {
			return // closed by Stop
		}
		if err != nil {
			a.broken.Store(true)
			// Whoever waits now waits on a timerfd nobody reads: wake
			// it, so that its next Reset arms the fallback. An early
			// ring is re-checked against the clock.
			a.ring()
			return
		}
		if n == 8 && binary.NativeEndian.Uint64(buf[:]) > 0 {
			a.ring()
		}
	}
}

func (a *fdAlarm) C() <-chan struct{} { return a.c }

func (a *fdAlarm) Reset(d time.Duration) {
	if a.broken.Load() {
		a.fallback.Reset(d)
		return
	}
	d = max(d, time.Microsecond) // zero would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(a.fd, 0, &spec, nil); err != nil {
		// A timerfd that cannot be armed is as broken as one that
		// cannot be read: the timer takes over, rather than a ring on
		// every Reset that would spin the dispatcher until the time.
		a.broken.Store(true)
		a.fallback.Reset(d)
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
	a.fallback.Stop()
}
