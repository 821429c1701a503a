package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/stack"
)

func init() { extensions.Register(&Driver{}) }

// Driver runs the stack as child processes. The zero value, configured with
// Configure or built by New, is ready to use.
type Driver struct {
	opts stack.Options

	// life serialises Up, Down and restarts; mu guards the maps and the
	// per-process flags and is never held across a wait.
	life sync.Mutex
	mu   sync.Mutex

	up        bool
	dir       string // scratch dir: the indexer's database
	bins      string
	endpoints map[string]stack.Endpoint
	procs     map[string]*proc
	logs      map[string]*logBuffer
	lastCPU   map[string]cpuSample
	started   []int // every process group ever started, for Leftovers
}

type cpuSample struct {
	seconds float64
	at      time.Time
}

// New returns a local driver configured with opts.
func New(opts ...stack.Option) *Driver {
	return &Driver{opts: stack.NewOptions(opts...)}
}

// ExtensionInfo registers the driver as stacks.local.
func (*Driver) ExtensionInfo() extensions.Info {
	return extensions.Info{
		ID:      "stacks.local",
		New:     func() extensions.Extension { return New() },
		Summary: "the reference stack as child processes on loopback (no Docker)",
	}
}

// Configure replaces the driver's options; call it before Up.
func (d *Driver) Configure(o stack.Options) error {
	d.life.Lock()
	defer d.life.Unlock()
	if d.up {
		return stack.ErrAlreadyUp
	}
	d.opts = o
	return nil
}

// Up builds (once) and starts every service in dependency order, waiting
// for each one's /readyz. On any failure, including ctx ending, it stops
// whatever it started before returning.
func (d *Driver) Up(ctx context.Context) (err error) {
	d.life.Lock()
	defer d.life.Unlock()
	d.mu.Lock()
	if d.up {
		d.mu.Unlock()
		return stack.ErrAlreadyUp
	}
	d.mu.Unlock()

	bins, err := binaries(ctx, d.opts)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err = d.upOnce(ctx, bins)
		if err == nil || attempt == maxPortAttempts || ctx.Err() != nil || !portClash(err) {
			return err
		}
		// Another process took one of the picked ports before the service
		// bound it (see allocate): start again on fresh ports.
	}
}

// maxPortAttempts bounds the restarts after a port clash.
const maxPortAttempts = 3

// portClash tells a failed start caused by a port taken in between
// allocate and the service's bind: the service's last output says so.
func portClash(err error) bool {
	return strings.Contains(err.Error(), "address already in use")
}

// upOnce allocates ports and starts every service; on failure it tears
// down what it started.
func (d *Driver) upOnce(ctx context.Context, bins string) (err error) {
	dir, err := os.MkdirTemp("", "reprise-stack-")
	if err != nil {
		return err
	}
	endpoints, err := allocatePorts()
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	d.mu.Lock()
	d.up, d.dir, d.bins, d.endpoints = true, dir, bins, endpoints
	d.procs = map[string]*proc{}
	d.logs = map[string]*logBuffer{}
	d.lastCPU = map[string]cpuSample{}
	for _, name := range stack.Names() {
		d.logs[name] = newLogBuffer(DefaultLogBytes)
	}
	d.mu.Unlock()
	defer func() {
		if err != nil {
			d.teardown()
		}
	}()
	for _, svc := range stack.Services {
		if err := d.start(ctx, svc.Name); err != nil {
			return err
		}
	}
	return nil
}

// allocatePorts is allocate; tests replace it to force a port clash.
var allocatePorts = allocate

// allocate picks a free loopback port for every listener. The ports are
// released before the services bind them; on a busy host another process
// could take one in between, which shows as a failed start that Up retries
// on fresh ports.
func allocate() (map[string]stack.Endpoint, error) {
	// Hold every listener until all are picked, so no port is handed out twice.
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	free := func() (string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		lns = append(lns, ln)
		return ln.Addr().String(), nil
	}
	out := map[string]stack.Endpoint{}
	for _, svc := range stack.Services {
		var ep stack.Endpoint
		var err error
		if ep.HTTP, err = free(); err != nil {
			return nil, err
		}
		if svc.GRPC {
			if ep.GRPC, err = free(); err != nil {
				return nil, err
			}
		}
		out[svc.Name] = ep
	}
	return out, nil
}

// env is the service's configuration, by the platform's env vars; env
// rather than flags because every service reads both and an unknown env var,
// unlike an unknown flag, is harmless.
func (d *Driver) env(svc stack.Service) []string {
	ep := d.endpoints[svc.Name]
	env := append(os.Environ(), "HTTP_ADDR="+ep.HTTP, "LOG_LEVEL=info")
	if ep.GRPC != "" {
		env = append(env, "GRPC_ADDR="+ep.GRPC)
	}
	for key, dep := range svc.Deps {
		env = append(env, key+"="+d.endpoints[dep].GRPC)
	}
	switch svc.Name {
	case "indexer":
		env = append(env, "INDEXER_DB=sqlite://"+filepath.Join(d.dir, "indexer.db"))
	case "sequencer":
		// A durable chain, so that a killed and restarted sequencer carries on
		// where it stopped, as a real one does.
		env = append(env, "SEQUENCER_DATA_DIR="+filepath.Join(d.dir, "sequencer"))
	}
	for k, v := range d.opts.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// start runs one service and waits for it to be ready. The caller holds life.
func (d *Driver) start(ctx context.Context, name string) error {
	svc, err := stack.Lookup(name)
	if err != nil {
		return err
	}
	d.mu.Lock()
	p, err := startProc(filepath.Join(d.bins, name), d.env(svc), d.logs[name])
	if err == nil {
		d.procs[name] = p
		d.started = append(d.started, p.pid())
		delete(d.lastCPU, name)
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	alive := func() error {
		if p.exited() {
			return fmt.Errorf("%s %s; last output:\n%s", name, p.exitDetail(), d.tail(name, 2048))
		}
		return nil
	}
	if err := stack.WaitReady(ctx, "http://"+d.endpoints[name].HTTP+"/readyz", d.opts.ReadyTimeout, alive); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// tail returns up to n of the last bytes a service wrote.
func (d *Driver) tail(name string, n int) string {
	b := d.logs[name]
	b.mu.Lock()
	off := b.total - int64(min(n, b.kept))
	b.mu.Unlock()
	p := make([]byte, n)
	got, _, _, _ := b.readAt(off, p)
	return strings.TrimSpace(string(p[:got]))
}

// Down stops every service, newest first, and removes the scratch dir. It
// is idempotent and safe before Up.
func (d *Driver) Down(ctx context.Context) error {
	d.life.Lock()
	defer d.life.Unlock()
	d.teardown()
	return nil
}

// teardown is Down without the lock; ctx is ignored on purpose: stopping
// must finish even when the caller has given up, or children leak.
func (d *Driver) teardown() {
	d.mu.Lock()
	if !d.up {
		d.mu.Unlock()
		return
	}
	var procs []*proc
	for i := len(stack.Services) - 1; i >= 0; i-- {
		if p := d.procs[stack.Services[i].Name]; p != nil {
			p.stopped = true
			procs = append(procs, p)
		}
	}
	grace := d.opts.StopTimeout
	d.mu.Unlock()
	for _, p := range procs {
		p.stop(grace)
	}
	d.mu.Lock()
	for _, b := range d.logs {
		b.close()
	}
	os.RemoveAll(d.dir)
	d.up, d.procs = false, nil
	d.mu.Unlock()
}

// Endpoints returns the services' loopback addresses; empty before Up.
func (d *Driver) Endpoints() map[string]stack.Endpoint {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]stack.Endpoint, len(d.endpoints))
	if d.up {
		for k, v := range d.endpoints {
			out[k] = v
		}
	}
	return out
}

// Status reports each service's process state and readiness.
func (d *Driver) Status(ctx context.Context) ([]stack.ServiceStatus, error) {
	type row struct {
		st  stack.ServiceStatus
		url string
	}
	d.mu.Lock()
	rows := make([]row, 0, len(stack.Services))
	for _, svc := range stack.Services {
		st := stack.ServiceStatus{Service: svc.Name, State: stack.StateMissing}
		p := d.procs[svc.Name]
		var url string
		switch {
		case p == nil:
		case p.exited():
			st.State, st.Detail = stack.StateExited, p.exitDetail()
			if p.stopped {
				st.State = stack.StateStopped
			}
		case p.paused:
			st.State = stack.StatePaused
		default:
			st.State = stack.StateRunning
			url = "http://" + d.endpoints[svc.Name].HTTP + "/readyz"
		}
		if p != nil {
			st.ID = fmt.Sprint(p.pid())
		}
		rows = append(rows, row{st, url})
	}
	d.mu.Unlock()
	out := make([]stack.ServiceStatus, len(rows))
	for i, r := range rows {
		if r.url != "" {
			r.st.Ready = stack.Ready(ctx, r.url)
		}
		out[i] = r.st
	}
	return out, ctx.Err()
}

// running returns the live process of a service.
func (d *Driver) running(name string) (*proc, error) {
	if _, err := stack.Lookup(name); err != nil {
		return nil, err
	}
	if !d.up {
		return nil, stack.ErrNotUp
	}
	p := d.procs[name]
	if p == nil || p.exited() {
		return nil, fmt.Errorf("%s: not running", name)
	}
	return p, nil
}

// Logs follows a service's combined stdout and stderr, from the oldest byte
// still buffered (DefaultLogBytes per service). The stream survives
// restarts and ends at Down, when ctx ends or on Close.
func (d *Driver) Logs(ctx context.Context, service string) (io.ReadCloser, error) {
	if _, err := stack.Lookup(service); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.up {
		return nil, stack.ErrNotUp
	}
	return d.logs[service].follow(ctx), nil
}

// Stats samples CPU time and RSS from /proc. Network traffic is not
// reported: the processes share the host's network namespace, so /proc
// has no per-process byte counts (HasNetwork is false).
func (d *Driver) Stats(ctx context.Context, service string) (stack.Stats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, err := d.running(service)
	if err != nil {
		return stack.Stats{}, err
	}
	now := time.Now()
	cpu, err := procCPU(p.pid())
	if err != nil {
		return stack.Stats{}, fmt.Errorf("%s: stats: %w", service, err)
	}
	rss, err := procRSS(p.pid())
	if err != nil {
		return stack.Stats{}, fmt.Errorf("%s: stats: %w", service, err)
	}
	last, ok := d.lastCPU[service]
	if !ok {
		last = cpuSample{at: p.started}
	}
	st := stack.Stats{CPUSeconds: cpu, MemoryBytes: rss, At: now}
	if dt := now.Sub(last.at).Seconds(); dt > 0 {
		st.CPUPercent = 100 * (cpu - last.seconds) / dt
	}
	d.lastCPU[service] = cpuSample{seconds: cpu, at: now}
	return st, nil
}

// Fault signals a service's process group: SIGTERM (stop), SIGKILL (kill),
// SIGSTOP (pause), SIGCONT (unpause); restart stops it and starts it again
// on the same ports, waiting for readiness.
func (d *Driver) Fault(ctx context.Context, service string, f stack.Fault) error {
	if _, err := stack.ParseFault(string(f)); err != nil {
		return err
	}
	if f == stack.FaultRestart {
		return d.restart(ctx, service)
	}
	d.mu.Lock()
	p, err := d.running(service)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	switch f {
	case stack.FaultKill:
		err = p.signal(syscall.SIGKILL)
	case stack.FaultPause:
		p.paused = true
		err = p.signal(syscall.SIGSTOP)
	case stack.FaultUnpause:
		p.paused = false
		err = p.signal(syscall.SIGCONT)
	case stack.FaultStop:
		p.stopped = true
	}
	grace := d.opts.StopTimeout
	d.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %s: %w", service, f, err)
	}
	switch f {
	case stack.FaultStop:
		p.stop(grace)
	case stack.FaultKill:
		// Report the kill once it has happened, so Status agrees at once.
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (d *Driver) restart(ctx context.Context, service string) error {
	d.life.Lock()
	defer d.life.Unlock()
	d.mu.Lock()
	if _, err := stack.Lookup(service); err != nil {
		d.mu.Unlock()
		return err
	}
	if !d.up {
		d.mu.Unlock()
		return stack.ErrNotUp
	}
	p := d.procs[service]
	if p != nil {
		p.stopped = true
	}
	grace := d.opts.StopTimeout
	d.mu.Unlock()
	if p != nil {
		p.stop(grace)
	}
	if err := d.start(ctx, service); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}

var (
	_ stack.Driver       = (*Driver)(nil)
	_ stack.Configurable = (*Driver)(nil)
)

// Leftovers lists the process groups this driver started that still have a
// live member.
func (d *Driver) Leftovers(context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, pid := range d.started {
		if err := syscall.Kill(-pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			out = append(out, fmt.Sprintf("process group %d", pid))
		}
	}
	return out, nil
}

var _ stack.Auditor = (*Driver)(nil)
