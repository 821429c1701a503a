package proxytest

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/proxy"
)

// Option adjusts the recorder's configuration before it starts.
type Option func(*proxy.Config)

// Config applies f to the configuration.
func Config(f func(*proxy.Config)) Option { return Option(f) }

// BodyCap sets the capture cap per body or message.
func BodyCap(n int64) Option { return func(c *proxy.Config) { c.BodyCap = n } }

// TLS makes the proxy serve TLS with the given certificate and key files.
func TLS(certFile, keyFile string) Option {
	return func(c *proxy.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile }
}

// Admin serves the admin endpoints on a free loopback port.
func Admin() Option { return func(c *proxy.Config) { c.Admin = "127.0.0.1:0" } }

// Run is a started recording proxy.
type Run struct {
	// URL is the proxy's base URL ("http://127.0.0.1:PORT").
	URL string
	// Path is the recording file.
	Path string
	// Recorder is the running recorder.
	Recorder *proxy.Recorder

	t    testing.TB
	once sync.Once
	recs []*rprpb.Exchange
	hdr  *rprpb.FileHeader
}

// Start starts a recording proxy in front of upstream and returns its URL
// and a function that stops it and returns the recorded exchanges. The
// recorder is stopped at the end of the test if the test does not.
func Start(t testing.TB, upstream string, opts ...Option) (url string, stop func() []*rprpb.Exchange) {
	r := StartRun(t, upstream, opts...)
	return r.URL, r.Stop
}

// StartRun is Start with access to the recorder and the file.
func StartRun(t testing.TB, upstream string, opts ...Option) *Run {
	t.Helper()
	cfg := proxy.Config{
		Listen:   "127.0.0.1:0",
		Upstream: upstream,
		Out:      filepath.Join(t.TempDir(), "recording.rpr"),
		Recorder: "proxytest",
		// The tests stop the recorder explicitly; short intervals keep
		// the periodic paths exercised.
		FlushInterval: 20 * time.Millisecond,
		FsyncInterval: 50 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	rec, err := proxy.NewRecorder(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, rec.Start(ctx))
	r := &Run{URL: rec.URL(), Path: cfg.Out, Recorder: rec, t: t}
	t.Cleanup(func() { r.Stop() })
	return r
}

// Stop shuts the recorder down (once) and returns the exchanges in file
// order. It fails the test unless the file reads back complete.
func (r *Run) Stop() []*rprpb.Exchange {
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		require.NoError(r.t, r.Recorder.Shutdown(ctx))
		r.hdr, r.recs = Read(r.t, r.Path)
	})
	return r.recs
}

// Header returns the file header; valid after Stop.
func (r *Run) Header() *rprpb.FileHeader { return r.hdr }

// Read reads a recording that must be complete and returns its header and
// exchanges.
func Read(t testing.TB, path string) (*rprpb.FileHeader, []*rprpb.Exchange) {
	t.Helper()
	rd, err := recording.Open(path)
	require.NoError(t, err)
	defer rd.Close()
	var out []*rprpb.Exchange
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if ex := rec.GetExchange(); ex != nil {
			out = append(out, ex)
		}
	}
	require.True(t, rd.Complete(), "%s: the recording has no end marker or lost records", path)
	return rd.Header(), out
}
