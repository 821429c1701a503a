package local

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/harness/stack/stacktest"
)

// fakeBin holds testdata/fakesvc built once under every service's name.
var fakeBin string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "reprise-fakesvc-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	if err := stacktest.BuildFakes(dir); err != nil {
		return 1, err
	}
	fakeBin = dir
	code := m.Run()
	if code == 0 {
		// The HTTP client's idle connections are the only goroutines a test
		// may leave; everything the driver starts must be gone.
		if err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			return 1, fmt.Errorf("goroutine leak: %w", err)
		}
	}
	return code, nil
}
