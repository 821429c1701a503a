package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/reprise-dev/reprise/harness/stack"
)

// modulePath identifies the checkout the services are built from.
const modulePath = "github.com/reprise-dev/reprise"

// ErrNoModule means the reprise checkout could not be found.
var ErrNoModule = errors.New("reprise module root not found (run from the checkout or set the module root)")

// findModuleRoot walks up from dir to the go.mod of the reprise module.
func findModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModule
		}
		dir = parent
	}
}

// builds remembers, per module root, the directory this process already
// built the binaries into: "builds once" holds for every driver in a process.
var builds struct {
	sync.Mutex
	dirs map[string]string
}

// binaries returns a directory holding one executable per service, building
// them if needed.
func binaries(ctx context.Context, o stack.Options) (string, error) {
	if o.BinDir != "" {
		for _, name := range stack.Names() {
			if _, err := os.Stat(filepath.Join(o.BinDir, name)); err != nil {
				return "", fmt.Errorf("prebuilt binaries: %w", err)
			}
		}
		return o.BinDir, nil
	}
	root := o.ModuleRoot
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		if root, err = findModuleRoot(wd); err != nil {
			return "", err
		}
	}
	builds.Lock()
	defer builds.Unlock()
	if dir, ok := builds.dirs[root]; ok {
		return dir, nil
	}
	dir, err := build(ctx, root)
	if err != nil {
		return "", err
	}
	if builds.dirs == nil {
		builds.dirs = map[string]string{}
	}
	builds.dirs[root] = dir
	return dir, nil
}

// build compiles every service into the user cache. It links into a fresh
// directory and renames each binary into place, so concurrent processes
// building the same checkout never see a half-written file.
func build(ctx context.Context, root string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "reprise", "stack", hex.EncodeToString(sum[:6]), "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build services: %w", err)
	}
	args := []string{"build", "-trimpath", "-o", tmp + string(filepath.Separator)}
	for _, name := range stack.Names() {
		args = append(args, "./compose/cmd/"+name)
	}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("build services in %s: %w", root, ctx.Err())
		}
		return "", fmt.Errorf("build services in %s: %w\n%s", root, err, strings.TrimSpace(out.String()))
	}
	for _, name := range stack.Names() {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("build services: %w", err)
		}
	}
	return dir, nil
}
