package stacktest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/reprise-dev/reprise/harness/stack"
)

// BuildFakes builds testdata/fakesvc into dir once, linked under every
// service's name: a stack of stand-ins that serve /readyz, log slog JSON and
// answer the gateway calls the suite makes, for testing drivers and
// commands without the real services. FAKE_NEVER_READY=<service> keeps that
// one from ever getting ready.
func BuildFakes(dir string) error {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return fmt.Errorf("stacktest: cannot locate the fakesvc source")
	}
	src := filepath.Join(filepath.Dir(file), "testdata", "fakesvc")
	bin := filepath.Join(dir, "fakesvc")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build fakesvc: %w\n%s", err, out)
	}
	for _, name := range stack.Names() {
		if err := os.Link(bin, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
