package procs

import (
	"os"
	"runtime"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

// goDefault skips a test that undoes a Scale when this process's GOMAXPROCS
// comes from the environment: undoing gives it back to Go's default, which
// ignores the variable, so the value before would not come back.
func goDefault(t *testing.T) {
	t.Helper()
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment")
	}
}

func TestScaleMultipliesAndRestores(t *testing.T) {
	goDefault(t)
	before := runtime.GOMAXPROCS(0)
	restore := Scale(2, LookupEnv(noEnv))
	if got := runtime.GOMAXPROCS(0); got != 2*before {
		t.Errorf("GOMAXPROCS = %d after Scale(2), want %d", got, 2*before)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d after restore, want %d", got, before)
	}
}

func TestScaleTakesAnEmptyGOMAXPROCSAsUnset(t *testing.T) {
	goDefault(t)
	before := runtime.GOMAXPROCS(0)
	empty := func(k string) (string, bool) { return "", k == "GOMAXPROCS" }
	restore := Scale(2, LookupEnv(empty))
	if got := runtime.GOMAXPROCS(0); got != 2*before {
		t.Errorf("GOMAXPROCS = %d with GOMAXPROCS empty in the environment, want %d", got, 2*before)
	}
	restore()
}

func TestScaleLeavesAUserChoiceAlone(t *testing.T) {
	goDefault(t)
	before := runtime.GOMAXPROCS(0)
	env := func(k string) (string, bool) {
		if k == "GOMAXPROCS" {
			return "3", true
		}
		return "", false
	}
	restore := Scale(2, LookupEnv(env))
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d with GOMAXPROCS set in the environment, want it left at %d", got, before)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d after restore, want %d", got, before)
	}
}

func TestScaleFactor(t *testing.T) {
	goDefault(t)
	before := runtime.GOMAXPROCS(0)
	for _, tc := range []struct{ perCPU, want int }{
		{-1, before}, {0, before}, {1, before}, {3, 3 * before}, {1000, MaxPerCPU * before},
	} {
		restore := Scale(tc.perCPU, LookupEnv(noEnv))
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("Scale(%d): GOMAXPROCS = %d, want %d", tc.perCPU, got, tc.want)
		}
		restore()
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d after the restores, want %d", got, before)
	}
}

func TestScaleWhileScaledIsANoOp(t *testing.T) {
	goDefault(t)
	before := runtime.GOMAXPROCS(0)
	first := Scale(2, LookupEnv(noEnv))
	second := Scale(3, LookupEnv(noEnv))
	if got := runtime.GOMAXPROCS(0); got != 2*before {
		t.Errorf("GOMAXPROCS = %d after a second Scale, want the first's %d", got, 2*before)
	}
	first()
	second() // restores nothing: it changed nothing
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS = %d after both restores, want %d", got, before)
	}
	again := Scale(2, LookupEnv(noEnv))
	if got := runtime.GOMAXPROCS(0); got != 2*before {
		t.Errorf("GOMAXPROCS = %d after Scale once the first was restored, want %d", got, 2*before)
	}
	again()
}
