package local

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// proc is one run of a service binary. Its own goroutine waits for it; done
// is closed when it has ended and its output is flushed.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error // Wait's result; read only after done

	// Guarded by the driver's mu.
	stopped bool // ended on purpose (FaultStop, restart, Down)
	paused  bool
}

// startProc starts bin in its own process group, so every signal reaches
// the whole service and nothing outlives Down.
func startProc(bin string, env []string, logs *logBuffer) (*proc, error) {
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	// Setpgid gives the service its own group; Pdeathsig kills it if this
	// process dies without running Down.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// A grandchild holding the output pipe must not hang Wait.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &proc{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	err := syscall.Kill(-p.pid(), sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// stop asks politely, then kills the group after grace. It returns once the
// process has ended.
func (p *proc) stop(grace time.Duration) {
	_ = p.signal(syscall.SIGTERM)
	// A stopped process cannot handle SIGTERM until it is continued.
	_ = p.signal(syscall.SIGCONT)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return
	case <-t.C:
	}
	_ = p.signal(syscall.SIGKILL)
	<-p.done
}

// exitDetail describes how the process ended.
func (p *proc) exitDetail() string {
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return "exit 0"
	case errors.As(p.err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return p.err.Error()
}
