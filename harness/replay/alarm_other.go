//go:build !linux

package replay

func newAlarm() alarm { return newTimerAlarm() }
