package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// Recorder is a running recording proxy: a listener and http.Server in
// front of a Proxy, a fail-open queue, redaction off the traffic path, and
// the recording file. It follows the collector contract: Start once,
// Shutdown always (also without Start, and more than once).
type Recorder struct {
	cfg  Config
	log  *slog.Logger
	opts []Option

	mu       sync.Mutex
	started  bool
	stopped  bool
	start    time.Time
	ln       net.Listener
	srv      *http.Server
	admin    *http.Server
	adminLn  net.Listener
	proxy    *Proxy
	queue    *sink.Queue
	writer   *recording.Writer
	reg      *prometheus.Registry
	serving  sync.WaitGroup
	serveErr chan error
	final    *RecorderStats
}

// RecorderOption configures a Recorder beyond its Config.
type RecorderOption func(*Recorder)

// WithLogger sets the recorder's logger.
func WithLogger(l *slog.Logger) RecorderOption {
	return func(r *Recorder) {
		if l != nil {
			r.log = l
		}
	}
}

// WithProxyOptions passes extra options to the Proxy (after the ones the
// Config implies, so they win).
func WithProxyOptions(opts ...Option) RecorderOption {
	return func(r *Recorder) { r.opts = append(r.opts, opts...) }
}

// NewRecorder validates cfg. Nothing is opened until Start.
func NewRecorder(cfg Config, opts ...RecorderOption) (*Recorder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Recorder{cfg: cfg, log: slog.New(slog.DiscardHandler), serveErr: make(chan error, 2)}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Start opens the file and the listeners and starts serving. ctx bounds the
// start only. Errors caused by the configuration (unreadable certificate or
// key file, unusable address, uncreatable output) wrap ErrConfig.
func (r *Recorder) Start(ctx context.Context) (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("proxy: recorder already started")
	}
	if r.stopped {
		return errors.New("proxy: recorder already shut down")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg := r.cfg
	upstream, _ := cfg.upstreamURL() // checked by Validate
	sessions, _ := parseSessions(cfg.SessionChain)

	var serverTLS *tls.Config
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return configErr("tls-cert/tls-key: %v", err)
		}
		serverTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	red, err := r.redactor()
	if err != nil {
		return err
	}

	// Undo whatever was opened if a later step fails.
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return configErr("listen: %v", err)
	}
	closers = append(closers, func() { ln.Close() })
	var adminLn net.Listener
	if cfg.Admin != "" {
		adminLn, err = (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Admin)
		if err != nil {
			return configErr("admin: %v", err)
		}
		closers = append(closers, func() { adminLn.Close() })
	}

	anchor := time.Now()
	name := cfg.Recorder
	if name == "" {
		name = DefaultRecorderName
	}
	hdr := &rprpb.FileHeader{
		Recorder:       name,
		RecorderConfig: cfg.headerConfig(ln.Addr().String()),
		Redaction:      red.Policy(),
		Clock:          &rprpb.Clock{Source: "monotonic", AnchorUnixNano: anchor.UnixNano()},
		Labels:         cfg.Labels,
	}
	w, err := recording.Create(cfg.Out, hdr)
	if err != nil {
		return configErr("out: %v", err)
	}
	closers = append(closers, func() { w.Close(); os.Remove(cfg.Out) })

	// The file copies each record into its block, so once written a
	// record's capture buffers can serve the next exchanges.
	q := sink.NewQueue(redactSink{r: red, next: sink.File{W: w}, recycle: true},
		sink.Capacity(cfg.queueSize()),
		sink.FlushInterval(cfg.flushInterval()),
		sink.SyncInterval(cfg.fsyncInterval()),
		sink.Logger(r.log))
	closers = append(closers, func() { q.Close(context.Background()) })

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	popts := []Option{
		BodyCap(cfg.bodyCap()), Anchor(anchor), Metrics(reg), Logger(r.log),
		Sessions(sessions), hideSessionKeys(red),
	}
	if cfg.UpstreamInsecure {
		popts = append(popts, UpstreamTLS(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // asked for by --upstream-insecure
	}
	p, err := New(upstream, q, append(popts, r.opts...)...)
	if err != nil {
		return err
	}

	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	if serverTLS != nil {
		protos.SetHTTP2(true)
	}
	srv := &http.Server{
		Handler:           p,
		ConnContext:       p.ConnContext,
		Protocols:         &protos,
		TLSConfig:         serverTLS,
		ReadHeaderTimeout: time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(r.log.Handler(), slog.LevelDebug),
	}
	r.serve(func() error {
		if serverTLS != nil {
			return srv.ServeTLS(ln, "", "")
		}
		return srv.Serve(ln)
	})
	if adminLn != nil {
		r.admin = &http.Server{Handler: adminMux(reg), ReadHeaderTimeout: 10 * time.Second}
		r.serve(func() error { return r.admin.Serve(adminLn) })
	}
	r.started, r.start = true, anchor
	r.ln, r.adminLn, r.srv, r.proxy, r.queue, r.writer, r.reg = ln, adminLn, srv, p, q, w, reg
	r.log.Info("recording", "listen", ln.Addr().String(), "upstream", cfg.Upstream, "out", cfg.Out)
	return nil
}

func (r *Recorder) serve(f func() error) {
	r.serving.Add(1)
	go func() {
		defer r.serving.Done()
		if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.serveErr <- err
		}
	}()
}

func (r *Recorder) redactor() (*redact.Redactor, error) {
	pol := redact.DefaultPolicy()
	pol.Headers = append(pol.Headers, r.cfg.RedactHeaders...)
	pol.QueryParams = append(pol.QueryParams, r.cfg.RedactQuery...)
	pol.JSONFields = append(pol.JSONFields, r.cfg.RedactFields...)
	if r.cfg.RedactionKeyFile != "" {
		key, err := os.ReadFile(r.cfg.RedactionKeyFile)
		if err != nil {
			return nil, configErr("redaction-key-file: %v", err)
		}
		pol.Key = bytes.TrimSpace(key)
		if len(pol.Key) == 0 {
			return nil, configErr("redaction-key-file: %s is empty", r.cfg.RedactionKeyFile)
		}
	}
	red, err := redact.New(pol)
	if err != nil {
		return nil, configErr("redaction: %v", err)
	}
	return red, nil
}

func adminMux(reg *prometheus.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Addr is the proxy's listening address, once started.
func (r *Recorder) Addr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln == nil {
		return nil
	}
	return r.ln.Addr()
}

// URL is the proxy's base URL, once started.
func (r *Recorder) URL() string {
	a := r.Addr()
	if a == nil {
		return ""
	}
	if r.cfg.TLSCertFile != "" {
		return "https://" + a.String()
	}
	return "http://" + a.String()
}

// AdminAddr is the admin listener's address, or nil without --admin.
func (r *Recorder) AdminAddr() net.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.adminLn == nil {
		return nil
	}
	return r.adminLn.Addr()
}

// Errors reports a listener that failed while serving; the recorder should
// then be shut down.
func (r *Recorder) Errors() <-chan error { return r.serveErr }

// Shutdown stops accepting, lets in-flight requests finish within the grace
// period, closes upgraded connections, drains the queue into the file and
// closes it with its end marker. It is safe without Start and idempotent.
func (r *Recorder) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.stopped {
		r.stopped = true
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	r.mu.Unlock()

	grace, cancel := context.WithTimeout(ctx, r.cfg.shutdownGrace())
	defer cancel()
	var errs []error
	// http.Server does not track hijacked connections: end upgrades first,
	// then once more for any that upgraded while Shutdown waited.
	r.proxy.CloseUpgraded()
	if err := r.srv.Shutdown(grace); err != nil {
		r.srv.Close()
	}
	r.proxy.CloseUpgraded()
	if err := r.proxy.Wait(grace); err != nil {
		r.srv.Close()
		r.proxy.CloseUpgraded()
		if err := r.proxy.Wait(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.proxy.CloseIdleConnections()
	if err := r.queue.Close(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := r.writer.Close(); err != nil {
		errs = append(errs, fmt.Errorf("proxy: closing %s: %w", r.cfg.Out, err))
	}
	if r.admin != nil {
		if err := r.admin.Shutdown(ctx); err != nil {
			r.admin.Close()
		}
	}
	r.serving.Wait()

	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.statsLocked()
	st.Duration = time.Since(r.start)
	r.final = &st
	return errors.Join(errs...)
}

// RecorderStats sums up a recording.
type RecorderStats struct {
	Exchanges     int64 // records written to the file
	Dropped       int64 // exchanges lost: queue full, write errors, after close
	DroppedFull   int64
	WriteErrors   int64
	QueueDepth    int
	CapturedBytes int64 // body, message and frame bytes captured
	FileBytes     int64 // bytes written to the file so far
	Duration      time.Duration
}

// Stats returns the counters; after Shutdown, the final ones.
func (r *Recorder) Stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.final != nil {
		return *r.final
	}
	if !r.started {
		return RecorderStats{}
	}
	st := r.statsLocked()
	st.Duration = time.Since(r.start)
	return st
}

func (r *Recorder) statsLocked() RecorderStats {
	qs := r.queue.Stats()
	ps := r.proxy.Stats()
	return RecorderStats{
		Exchanges:     qs.Written,
		Dropped:       qs.Dropped(),
		DroppedFull:   qs.DroppedFull,
		WriteErrors:   qs.WriteErrors,
		QueueDepth:    qs.Depth,
		CapturedBytes: ps.CapturedBytes,
		FileBytes:     r.writer.Stats().WrittenBytes,
	}
}

// Gatherer is the recorder's metrics registry, once started.
func (r *Recorder) Gatherer() prometheus.Gatherer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reg == nil {
		return prometheus.NewRegistry()
	}
	return r.reg
}

// RedactSink redacts each exchange in place before passing it on. Put it
// behind a sink.Queue so that redaction runs off the traffic path; it passes
// Flush and Sync through.
func RedactSink(r *redact.Redactor, next sink.Sink) sink.Sink {
	return redactSink{r: r, next: next}
}

type redactSink struct {
	r    *redact.Redactor
	next sink.Sink
	// recycle hands the record's body capture buffers back to the proxy
	// after next.Write: only for a next that keeps nothing of the record,
	// fed only by this package's Proxy.
	recycle bool
}

func (s redactSink) Write(ctx context.Context, rec *rprpb.Record) error {
	ex := rec.GetExchange()
	var bufs [2][]byte
	if s.recycle {
		// Taken before redaction, which may put other slices in their
		// place.
		bufs = [2][]byte{ex.GetRequest().GetBody().GetData(), ex.GetResponse().GetBody().GetData()}
	}
	s.r.Exchange(ex)
	err := s.next.Write(ctx, rec)
	if s.recycle {
		recycleBodies(bufs)
	}
	return err
}

func (s redactSink) Flush() error {
	if f, ok := s.next.(sink.Flusher); ok {
		return f.Flush()
	}
	return nil
}

func (s redactSink) Sync() error {
	if f, ok := s.next.(sink.Syncer); ok {
		return f.Sync()
	}
	return nil
}

var (
	_ sink.Flusher = redactSink{}
	_ sink.Syncer  = redactSink{}
)
