package creds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ErrCommand marks a failure of the credentials command: empty argv,
// non-zero exit, timeout or oversized output.
var ErrCommand = errors.New("creds: credentials command")

// DefaultTimeout bounds one run of the command when Command gets timeout <= 0.
const DefaultTimeout = 10 * time.Second

// DefaultMaxOutput caps what the command may print on stdout.
const DefaultMaxOutput = 64 << 10

// stderrCap bounds the stderr kept for the error message.
const stderrCap = 4 << 10

// waitDelay is how long Wait waits for the output pipes after the process
// was killed (a grandchild may still hold them open).
const waitDelay = 250 * time.Millisecond

// Environment variables the command receives, on top of the harness's own.
const (
	EnvSession     = "REPRISE_SESSION"
	EnvPlaceholder = "REPRISE_PLACEHOLDER"
)

// CommandOption configures Command.
type CommandOption func(*commandConfig)

type commandConfig struct {
	maxOutput int
	env       []string
}

// MaxOutput caps the command's stdout at n bytes (default DefaultMaxOutput;
// n <= 0 keeps the default). A command that prints more is killed and its
// run is an error: a token is never silently truncated.
func MaxOutput(n int) CommandOption {
	return func(c *commandConfig) {
		if n > 0 {
			c.maxOutput = n
		}
	}
}

// Env adds KEY=VALUE entries to the command's environment.
func Env(kv ...string) CommandOption {
	return func(c *commandConfig) { c.env = append(c.env, kv...) }
}

// Command returns a Provider that runs argv (no shell) with REPRISE_SESSION
// and REPRISE_PLACEHOLDER added to the environment; its stdout, trimmed of
// surrounding white space, is the token.
//
// Each (session, placeholder) pair runs the command once: the outcome, token
// or error, is cached for the life of the Provider, and concurrent callers
// for the same pair wait for the one run. Errors are cached too, so a broken
// command costs one run per pair rather than one per request. A caller whose
// ctx ends stops waiting; the run itself is bounded only by timeout (<= 0
// means DefaultTimeout), so one caller's cancellation does not fail the
// others.
//
// A non-zero exit is an ErrCommand error carrying the first line of stderr;
// empty output is an ErrNoToken error; a run that exceeds timeout or prints
// more than MaxOutput is killed (with its process group where the platform
// allows) and is an ErrCommand error.
func Command(argv []string, timeout time.Duration, opts ...CommandOption) Provider {
	cfg := commandConfig{maxOutput: DefaultMaxOutput}
	for _, o := range opts {
		o(&cfg)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &commandProvider{argv: append([]string(nil), argv...), timeout: timeout, cfg: cfg,
		runs: make(map[cacheKey]*run)}
}

type cacheKey struct{ session, placeholder string }

// run is one command execution; done closes once tok and err are set.
type run struct {
	done chan struct{}
	tok  string
	err  error
}

type commandProvider struct {
	argv    []string
	timeout time.Duration
	cfg     commandConfig

	mu   sync.Mutex
	runs map[cacheKey]*run
}

func (p *commandProvider) Token(ctx context.Context, session, placeholder string) (string, error) {
	k := cacheKey{session, placeholder}
	p.mu.Lock()
	r, ok := p.runs[k]
	if !ok {
		r = &run{done: make(chan struct{})}
		p.runs[k] = r
		// The run outlives this caller's cancellation: others may wait on it.
		go func() {
			defer close(r.done)
			r.tok, r.err = p.exec(context.WithoutCancel(ctx), session, placeholder)
		}()
	}
	p.mu.Unlock()
	select {
	case <-r.done:
		return r.tok, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("creds: session %q, placeholder %q: %w", session, placeholder, ctx.Err())
	}
}

func (p *commandProvider) exec(ctx context.Context, session, placeholder string) (string, error) {
	where := fmt.Sprintf("session %q, placeholder %q", session, placeholder)
	if len(p.argv) == 0 || p.argv[0] == "" {
		return "", fmt.Errorf("%w: %s: empty argv", ErrCommand, where)
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	// overflow ends the run early when stdout passes the cap.
	runCtx, overflow := context.WithCancelCause(ctx)
	defer overflow(nil)

	cmd := exec.CommandContext(runCtx, p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.cfg.env...)
	cmd.Env = append(cmd.Env, EnvSession+"="+session, EnvPlaceholder+"="+placeholder)
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)
	stdout := &capWriter{max: p.cfg.maxOutput, full: func() { overflow(errOverflow) }}
	stderr := &capWriter{max: stderrCap}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	err := cmd.Run()
	switch {
	case context.Cause(runCtx) == errOverflow:
		return "", fmt.Errorf("%w %s: %s: stdout exceeds %d bytes", ErrCommand, p.argv[0], where, p.cfg.maxOutput)
	case ctx.Err() != nil:
		return "", fmt.Errorf("%w %s: %s: killed after %v: %w", ErrCommand, p.argv[0], where, p.timeout, ctx.Err())
	case err != nil:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", fmt.Errorf("%w %s: %s: %v: %s", ErrCommand, p.argv[0], where, exitErr, firstLine(stderr.buf.Bytes()))
		}
		return "", fmt.Errorf("%w %s: %s: %w", ErrCommand, p.argv[0], where, err)
	}
	tok := strings.TrimSpace(stdout.buf.String())
	if tok == "" {
		return "", fmt.Errorf("%w: %s: command %s printed nothing", ErrNoToken, where, p.argv[0])
	}
	return tok, nil
}

var errOverflow = errors.New("output cap reached")

// capWriter keeps at most max bytes and calls full once when more arrive.
// It never returns an error, so the process is ended by full, not by a
// broken pipe it might ignore.
type capWriter struct {
	max  int
	full func()
	buf  bytes.Buffer
	over bool
}

func (w *capWriter) Write(b []byte) (int, error) {
	room := w.max - w.buf.Len()
	if len(b) > room {
		w.buf.Write(b[:max(room, 0)])
		if !w.over && w.full != nil {
			w.full()
		}
		w.over = true
		return len(b), nil
	}
	w.buf.Write(b)
	return len(b), nil
}

// firstLine returns the first non-empty line of stderr, trimmed and capped.
func firstLine(b []byte) string {
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			if len(s) > 200 {
				s = s[:200] + "..."
			}
			return fmt.Sprintf("stderr: %q", s)
		}
	}
	return "no stderr"
}

var _ Provider = (*commandProvider)(nil)
