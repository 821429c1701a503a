package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Driver runs one instance of the reference staging stack.
type Driver interface {
	// Up starts every service in dependency order and returns once all are
	// ready. If it fails, or ctx ends first, nothing it started is left
	// running.
	Up(ctx context.Context) error
	// Down stops and removes everything the driver started. It is idempotent.
	Down(ctx context.Context) error
	// Status reports every service of the stack, in start order.
	Status(ctx context.Context) ([]ServiceStatus, error)
	// Endpoints maps a service to the addresses reachable from the host.
	Endpoints() map[string]Endpoint
	// Logs streams a service's output from what is still buffered, then
	// follows it until ctx ends or the reader is closed.
	Logs(ctx context.Context, service string) (io.ReadCloser, error)
	// Stats samples a service's resource use.
	Stats(ctx context.Context, service string) (Stats, error)
	// Fault injects a process- or container-level fault into a service.
	Fault(ctx context.Context, service string, f Fault) error
}

// Sentinel errors; drivers wrap them with the service or cause.
var (
	ErrNotUp          = errors.New("stack is not up")
	ErrAlreadyUp      = errors.New("stack is already up")
	ErrUnknownService = errors.New("unknown service")
	ErrUnknownFault   = errors.New("unknown fault")
	ErrNotReady       = errors.New("service did not become ready")
	ErrImageMissing   = errors.New("image missing (run `make images`)")
	ErrUnknownDriver  = errors.New("unknown stack driver")
)

// Fault is a fault a driver can inject into one service.
type Fault string

// The faults every driver supports.
const (
	FaultStop    Fault = "stop"    // graceful: SIGTERM, then SIGKILL after a grace period
	FaultKill    Fault = "kill"    // SIGKILL
	FaultPause   Fault = "pause"   // freeze (SIGSTOP or cgroup freezer)
	FaultUnpause Fault = "unpause" // thaw
	FaultRestart Fault = "restart" // stop, then start again on the same ports
)

// Faults lists the supported faults, for help texts and validation.
var Faults = []Fault{FaultStop, FaultKill, FaultPause, FaultUnpause, FaultRestart}

// ParseFault returns the fault with this name.
func ParseFault(s string) (Fault, error) {
	for _, f := range Faults {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%q: %w (want one of stop, kill, pause, unpause, restart)", s, ErrUnknownFault)
}

// Endpoint holds a service's addresses as host:port, reachable from the host.
// GRPC is empty for the gateway, which only speaks HTTP.
type Endpoint struct {
	HTTP string `json:"http"`
	GRPC string `json:"grpc,omitempty"`
}

// State is a service's lifecycle state.
type State string

// States reported by Status.
const (
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateExited  State = "exited"  // ended on its own or was killed
	StateStopped State = "stopped" // stopped on purpose (FaultStop)
	StateMissing State = "missing" // never started or already removed
)

// ServiceStatus is one service's row in Status.
type ServiceStatus struct {
	Service string `json:"service"`
	State   State  `json:"state"`
	// Ready is true when /readyz answered 200 just now.
	Ready bool `json:"ready"`
	// ID is the process ID or container ID.
	ID string `json:"id,omitempty"`
	// Detail says more: an exit code, a health status.
	Detail string `json:"detail,omitempty"`
}

// Stats is one sample of a service's resource use. Fields a driver cannot
// measure are zero and their Has* flag is false.
type Stats struct {
	// CPUSeconds is the CPU time used since start (user + system).
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPercent is the CPU use over the last sampling interval, 100 = one core.
	CPUPercent  float64 `json:"cpu_percent"`
	MemoryBytes uint64  `json:"memory_bytes"`
	// HasNetwork is false where the driver cannot attribute traffic to a
	// service (local processes share the host's network namespace).
	HasNetwork bool      `json:"has_network"`
	NetRxBytes uint64    `json:"net_rx_bytes"`
	NetTxBytes uint64    `json:"net_tx_bytes"`
	At         time.Time `json:"at"`
}

// Auditor is implemented by drivers that can tell what of theirs is still
// around: child processes, or labelled containers, networks and volumes.
// After Down it should report nothing.
type Auditor interface {
	Leftovers(ctx context.Context) ([]string, error)
}
