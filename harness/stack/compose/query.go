package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	dcontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/reprise-dev/reprise/harness/stack"
)

// readyPoll is how often readiness is polled over a published port.
const readyPoll = 100 * time.Millisecond

// containers lists this stack's containers, running or not.
func (d *Driver) containers(ctx context.Context) ([]dcontainer.Summary, error) {
	cli, err := d.client()
	if err != nil {
		return nil, err
	}
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: d.filter()})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return res.Items, nil
}

// find returns the container of one service.
func (d *Driver) find(ctx context.Context, service string) (dcontainer.Summary, error) {
	if _, err := known(service); err != nil {
		return dcontainer.Summary{}, err
	}
	cs, err := d.containers(ctx)
	if err != nil {
		return dcontainer.Summary{}, err
	}
	for _, c := range cs {
		if c.Labels[LabelService] == service {
			return c, nil
		}
	}
	return dcontainer.Summary{}, fmt.Errorf("%s: %w", service, stack.ErrNotUp)
}

// known accepts the reference services and the stack's infrastructure.
func known(service string) (string, error) {
	if service == "postgres" || service == "prometheus" {
		return service, nil
	}
	if _, err := stack.Lookup(service); err != nil {
		return "", err
	}
	return service, nil
}

// published returns 127.0.0.1:<host port> for a container port, or "".
func published(c dcontainer.Summary, port uint16) string {
	for _, p := range c.Ports {
		if p.PrivatePort == port && p.PublicPort != 0 && p.Type == "tcp" {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p.PublicPort)))
		}
	}
	return ""
}

// Endpoints reads the published ports from Docker on every call: a
// restarted container may come back on different host ports.
func (d *Driver) Endpoints() map[string]stack.Endpoint {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]stack.Endpoint{}
	cs, err := d.containers(ctx)
	if err != nil {
		return out
	}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		switch {
		case svc == "prometheus":
			out[svc] = stack.Endpoint{HTTP: published(c, 9090)}
		case svc == "postgres":
			// Not HTTP or gRPC; reachable at its published 5432 for psql.
		default:
			ep := stack.Endpoint{HTTP: published(c, 8080)}
			if s, err := stack.Lookup(svc); err == nil && s.GRPC {
				ep.GRPC = published(c, 9090)
			}
			if ep.HTTP != "" {
				out[svc] = ep
			}
		}
	}
	return out
}

// Status reports every container of the stack: the reference services in
// start order, then postgres and prometheus.
func (d *Driver) Status(ctx context.Context) ([]stack.ServiceStatus, error) {
	cs, err := d.containers(ctx)
	if err != nil {
		return nil, err
	}
	by := map[string]dcontainer.Summary{}
	for _, c := range cs {
		by[c.Labels[LabelService]] = c
	}
	names := append(stack.Names(), "postgres", "prometheus")
	out := make([]stack.ServiceStatus, 0, len(names))
	for _, name := range names {
		c, ok := by[name]
		st := stack.ServiceStatus{Service: name, State: stack.StateMissing}
		if ok {
			st.ID = c.ID[:min(12, len(c.ID))]
			st.Detail = c.Status
			switch c.State {
			case dcontainer.StateRunning:
				st.State = stack.StateRunning
			case dcontainer.StatePaused:
				st.State = stack.StatePaused
			case dcontainer.StateExited, dcontainer.StateDead:
				st.State = stack.StateExited
			default: // created, restarting, removing
				st.State = stack.StateStopped
			}
			if st.State == stack.StateRunning {
				st.Ready = d.ready(ctx, name, c)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// ready asks the service's readiness endpoint, or for postgres its Docker
// health check.
func (d *Driver) ready(ctx context.Context, name string, c dcontainer.Summary) bool {
	switch name {
	case "postgres":
		return strings.Contains(c.Status, "(healthy)")
	case "prometheus":
		addr := published(c, 9090)
		return addr != "" && stack.Ready(ctx, "http://"+addr+"/-/ready")
	}
	addr := published(c, 8080)
	return addr != "" && stack.Ready(ctx, "http://"+addr+"/readyz")
}

// Logs follows a container's stdout and stderr through the Docker API, from
// its first line. The stream ends when ctx ends, on Close, or when the
// container is removed.
func (d *Driver) Logs(ctx context.Context, service string) (io.ReadCloser, error) {
	c, err := d.find(ctx, service)
	if err != nil {
		return nil, err
	}
	cli, err := d.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	raw, err := cli.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true, Tail: "all"})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: logs: %w", service, err)
	}
	// The stream is multiplexed (no TTY); one goroutine, owned by the
	// returned reader, splits it into plain bytes.
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := stdcopy.StdCopy(pw, pw, raw)
		raw.Close()
		pw.CloseWithError(err)
	}()
	return &logStream{PipeReader: pr, cancel: cancel, done: done}, nil
}

type logStream struct {
	*io.PipeReader
	cancel context.CancelFunc
	done   chan struct{}
}

// Close ends the follow and waits for the copying goroutine.
func (l *logStream) Close() error {
	l.cancel()
	l.PipeReader.Close()
	<-l.done
	return nil
}

// Stats takes one sample from the Docker stats API. CPU percent is over the
// daemon's own one-second pre-sample, as `docker stats` computes it (100 =
// one core); memory excludes the page cache, as `docker stats` does.
func (d *Driver) Stats(ctx context.Context, service string) (stack.Stats, error) {
	c, err := d.find(ctx, service)
	if err != nil {
		return stack.Stats{}, err
	}
	cli, err := d.client()
	if err != nil {
		return stack.Stats{}, err
	}
	res, err := cli.ContainerStats(ctx, c.ID, client.ContainerStatsOptions{IncludePreviousSample: true})
	if err != nil {
		return stack.Stats{}, fmt.Errorf("%s: stats: %w", service, err)
	}
	defer res.Body.Close()
	var s dcontainer.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return stack.Stats{}, fmt.Errorf("%s: stats: %w", service, err)
	}
	return convertStats(s), nil
}

func convertStats(s dcontainer.StatsResponse) stack.Stats {
	out := stack.Stats{
		CPUSeconds: float64(s.CPUStats.CPUUsage.TotalUsage) / 1e9,
		At:         s.Read,
		HasNetwork: s.Networks != nil,
	}
	cpuDelta := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sysDelta := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if cpuDelta > 0 && sysDelta > 0 {
		out.CPUPercent = cpuDelta / sysDelta * cpus * 100
	}
	mem := s.MemoryStats.Usage
	// cgroup v1 reports total_inactive_file, v2 inactive_file.
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.MemoryStats.Stats[k]; ok && v < mem {
			mem -= v
			break
		}
	}
	out.MemoryBytes = mem
	for _, n := range s.Networks {
		out.NetRxBytes += n.RxBytes
		out.NetTxBytes += n.TxBytes
	}
	return out
}

// Fault maps to docker stop, kill, pause, unpause and restart; a restart
// waits for the service to be ready again.
func (d *Driver) Fault(ctx context.Context, service string, f stack.Fault) error {
	if _, err := stack.ParseFault(string(f)); err != nil {
		return err
	}
	c, err := d.find(ctx, service)
	if err != nil {
		return err
	}
	cli, err := d.client()
	if err != nil {
		return err
	}
	grace := int(d.opts.StopTimeout.Seconds())
	switch f {
	case stack.FaultStop:
		_, err = cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: &grace})
	case stack.FaultKill:
		_, err = cli.ContainerKill(ctx, c.ID, client.ContainerKillOptions{Signal: "KILL"})
	case stack.FaultPause:
		_, err = cli.ContainerPause(ctx, c.ID, client.ContainerPauseOptions{})
	case stack.FaultUnpause:
		_, err = cli.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{})
	case stack.FaultRestart:
		if _, err = cli.ContainerRestart(ctx, c.ID, client.ContainerRestartOptions{Timeout: &grace}); err == nil {
			err = d.waitReady(ctx, service)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", service, f, err)
	}
	return nil
}

// waitReady polls a service until Status reports it ready.
func (d *Driver) waitReady(ctx context.Context, service string) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.ReadyTimeout)
	defer cancel()
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		c, err := d.find(ctx, service)
		if err == nil && c.State == dcontainer.StateRunning && d.ready(ctx, service, c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w within %s", stack.ErrNotReady, d.opts.ReadyTimeout)
		case <-tick.C:
		}
	}
}
