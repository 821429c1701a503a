package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/harness/replay/replaymetrics"
	"github.com/reprise-dev/reprise/internal/cli"
)

// adminShutdownTimeout bounds how long a scrape in progress may hold up the
// end of the command.
const adminShutdownTimeout = 5 * time.Second

// serveAdmin serves the running replay's Prometheus metrics at /metrics on
// --admin and prints the bound address; stop ends the server. Without a
// host ("--admin :9464") it listens on loopback only.
func (o *Options) serveAdmin(ctx context.Context, r *replay.Replayer) (stop func(), err error) {
	if o.Admin == "" {
		return func() {}, nil
	}
	addr := o.Admin
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("replay: --admin %q: want host:port such as 127.0.0.1:9464", o.Admin))
	}
	if host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("replay: --admin: %w", err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", replaymetrics.Handler(replaymetrics.New(r)))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { // owned by stop
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(o.IO.ErrOut, "replay: admin server: %v\n", err)
		}
	}()
	fmt.Fprintf(o.IO.ErrOut, "replay: admin metrics on http://%s/metrics\n", l.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminShutdownTimeout)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
		<-done
	}, nil
}
