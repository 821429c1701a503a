package procs

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

// defaultProcs returns Go's default GOMAXPROCS, which undoing a Scale gives
// back. It skips the test when this process's GOMAXPROCS comes from the
// environment: the default ignores the variable, so the value before would
// not come back.
func defaultProcs(t *testing.T) int {
	t.Helper()
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment")
	}
	return runtime.GOMAXPROCS(0)
}

// wantProcs fails the test unless GOMAXPROCS is want; when names the moment.
func wantProcs(t *testing.T, want int, when string) {
	t.Helper()
	if got := runtime.GOMAXPROCS(0); got != want {
		t.Errorf("GOMAXPROCS = %d %s, want %d", got, when, want)
	}
}

func TestScaleMultipliesAndRestores(t *testing.T) {
	before := defaultProcs(t)
	restore := Scale(2, LookupEnv(noEnv))
	wantProcs(t, 2*before, "after Scale(2)")
	restore()
	wantProcs(t, before, "after restore")
}

func TestScaleTakesAnEmptyGOMAXPROCSAsUnset(t *testing.T) {
	before := defaultProcs(t)
	empty := func(k string) (string, bool) { return "", k == "GOMAXPROCS" }
	restore := Scale(2, LookupEnv(empty))
	wantProcs(t, 2*before, "with GOMAXPROCS empty in the environment")
	restore()
}

func TestScaleLeavesAUserChoiceAlone(t *testing.T) {
	before := defaultProcs(t)
	env := func(k string) (string, bool) {
		if k == "GOMAXPROCS" {
			return "3", true
		}
		return "", false
	}
	restore := Scale(2, LookupEnv(env))
	wantProcs(t, before, "with GOMAXPROCS set in the environment")
	restore()
	wantProcs(t, before, "after restore")
}

func TestScaleFactor(t *testing.T) {
	before := defaultProcs(t)
	for _, tc := range []struct{ perCPU, want int }{
		{-1, before}, {0, before}, {1, before}, {3, 3 * before}, {1000, MaxPerCPU * before},
	} {
		restore := Scale(tc.perCPU, LookupEnv(noEnv))
		wantProcs(t, tc.want, fmt.Sprintf("after Scale(%d)", tc.perCPU))
		restore()
	}
	wantProcs(t, before, "after the restores")
}

func TestScaleWhileScaledIsANoOp(t *testing.T) {
	before := defaultProcs(t)
	first := Scale(2, LookupEnv(noEnv))
	second := Scale(3, LookupEnv(noEnv))
	wantProcs(t, 2*before, "after a second Scale (the first's)")
	first()
	second() // restores nothing: it changed nothing
	wantProcs(t, before, "after both restores")
	again := Scale(2, LookupEnv(noEnv))
	wantProcs(t, 2*before, "after Scale once the first was restored")
	again()
}
