package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	hstack "github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/internal/cli"
)

func runLogs(ctx context.Context, opts *Options) error {
	if foreground(opts) {
		return cli.BadInput(errForeground)
	}
	services := hstack.Names()
	if opts.Service != "" {
		if _, err := hstack.Lookup(opts.Service); err != nil && opts.Service != "postgres" && opts.Service != "prometheus" {
			return cli.BadInput(err)
		}
		services = []string{opts.Service}
	}
	d, err := open(ctx, opts)
	if err != nil {
		return err
	}
	defer closeDriver(d)
	return followLogs(ctx, d, services, opts.IO.Out)
}

// followLogs copies each service's stream to out, one goroutine per
// service, each ending with its stream; lines are prefixed with the service
// name when there are several.
func followLogs(ctx context.Context, d hstack.Driver, services []string, out io.Writer) error {
	var streams []io.ReadCloser
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()
	for _, svc := range services {
		rc, err := d.Logs(ctx, svc)
		if err != nil {
			return fmt.Errorf("stack logs: %w", err)
		}
		streams = append(streams, rc)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, rc := range streams {
		prefix := ""
		if len(services) > 1 {
			prefix = fmt.Sprintf("%-11s | ", services[i])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				mu.Lock()
				fmt.Fprintf(out, "%s%s\n", prefix, sc.Bytes())
				mu.Unlock()
			}
			errs[i] = sc.Err()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil && ctx.Err() == nil {
		return fmt.Errorf("stack logs: %w", err)
	}
	// Ctrl-C is how following ends: not an error.
	return nil
}
