package replay

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hstack "github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/internal/cli"
)

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), strings.ToLower(strings.ReplaceAll(typ, " ", "-"))+".pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func tlsTarget(t *testing.T, conf *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"token":"live-0123456789"}`))
	}))
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some cases test
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLSTarget(t *testing.T) {
	file := sampleRecording(t)
	srv := tlsTarget(t, nil)
	ca := writePEM(t, "CERTIFICATE", srv.Certificate().Raw)
	args := func(extra ...string) []string {
		return append([]string{file, "--target", srv.URL, "--timing", "asap", "--out", t.TempDir()}, extra...)
	}

	out, errOut, code := execute(t, args("--ca-cert", ca)...)
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Contains(t, out, "errors: 0 transport", "the pool from --ca-cert verifies the server")
	assert.NotContains(t, errOut, "WARNING")

	out, _, code = execute(t, args()...)
	assert.Equal(t, cli.ExitError, code, "an unknown CA fails every request")
	assert.Contains(t, out, "6 transport")

	out, errOut, code = execute(t, args("--insecure-skip-verify")...)
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Contains(t, out, "errors: 0 transport")
	assert.Contains(t, errOut, "WARNING: --insecure-skip-verify", "skipping verification is loud")

	notPEM := filepath.Join(t.TempDir(), "x.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	for _, c := range []struct {
		args []string
		want string
	}{
		{args("--ca-cert", notPEM), "--ca-cert " + notPEM + ": no PEM certificate"},
		{args("--ca-cert", filepath.Join(t.TempDir(), "none.pem")), "--ca-cert"},
		{args("--client-cert", ca), "--client-cert needs --client-key"},
		{args("--client-key", ca), "--client-key needs --client-cert"},
		{args("--client-cert", ca, "--client-key", ca), "--client-cert/--client-key"},
		{[]string{file, "--target", "http://127.0.0.1:1", "--ca-cert", ca}, "--ca-cert applies to https targets only"},
	} {
		_, errOut, code := execute(t, c.args...)
		assert.Equal(t, cli.ExitBadInput, code, c.args)
		assert.Contains(t, errOut, c.want)
	}
}

// TestTLSClientCertificate: a server that requires a client certificate
// signed by its CA accepts the one from --client-cert/--client-key.
func TestTLSClientCertificate(t *testing.T) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "replayer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)

	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	srv := tlsTarget(t, &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12})
	ca := writePEM(t, "CERTIFICATE", srv.Certificate().Raw)
	base := []string{sampleRecording(t), "--target", srv.URL, "--timing", "asap", "--ca-cert", ca}

	out, errOut, code := execute(t, append(base, "--out", t.TempDir(),
		"--client-cert", writePEM(t, "CERTIFICATE", leafDER), "--client-key", writePEM(t, "EC PRIVATE KEY", keyDER))...)
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	assert.Contains(t, out, "errors: 0 transport")

	out, _, code = execute(t, append(base, "--out", t.TempDir())...)
	assert.Equal(t, cli.ExitError, code, "without the client certificate the server refuses")
	assert.Contains(t, out, "6 transport")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAdminMetricsDuringRun scrapes --admin while a request is held in
// flight by the target, which lets it go only once the scrape is done.
func TestAdminMetricsDuringRun(t *testing.T) {
	errOut := &syncBuffer{}
	var scraped atomic.Pointer[string]
	var scrapeErr atomic.Pointer[error]
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(func() { // the first request scrapes; the others wait behind it on their sessions
			_, addr, ok := strings.Cut(errOut.String(), "admin metrics on ")
			if !ok {
				err := errors.New("no admin address printed before the first request")
				scrapeErr.Store(&err)
				return
			}
			addr, _, _ = strings.Cut(addr, "\n")
			resp, err := http.Get(addr)
			if err != nil {
				scrapeErr.Store(&err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			s := string(b)
			scraped.Store(&s)
		})
		_, _ = w.Write([]byte(`{"token":"live-0123456789"}`))
	}))
	defer srv.Close()

	ios, _, out, _ := cli.Test()
	ios.ErrOut = errOut
	cmd := NewCmdReplay(ios)
	cmd.SetArgs([]string{sampleRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(), "--admin", "127.0.0.1:0"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, cli.ExitCode(err), "%v", err)
	assert.Contains(t, out.String(), "requests: 6 planned, 6 sent")
	if e := scrapeErr.Load(); e != nil {
		t.Fatal(*e)
	}
	body := scraped.Load()
	require.NotNil(t, body, "the target was never asked")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(*body))
	require.NoError(t, err, *body)
	gauge := func(name string) float64 {
		f, ok := fams[name]
		require.True(t, ok, "%s missing from:\n%s", name, *body)
		m := f.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	assert.Equal(t, 6.0, gauge("reprise_replay_requests_planned"))
	assert.GreaterOrEqual(t, gauge("reprise_replay_requests_in_flight"), 1.0, "scraped while a request was in flight")
	assert.Less(t, gauge("reprise_replay_requests_done_total"), 6.0, "scraped before the run ended")
	assert.Contains(t, errOut.String(), "admin metrics on http://127.0.0.1:")

	_, errText, code := execute(t, sampleRecording(t), "--target", srv.URL, "--admin", "nowhere")
	assert.Equal(t, cli.ExitBadInput, code)
	assert.Contains(t, errText, "--admin")
}

// fakeStack is a stack driver whose gateway is an httptest server.
type fakeStack struct {
	srv        *httptest.Server
	ups, downs atomic.Int32
	upErr      error
}

func (f *fakeStack) Up(context.Context) error {
	f.ups.Add(1)
	return f.upErr
}

func (f *fakeStack) Down(context.Context) error { f.downs.Add(1); return nil }
func (f *fakeStack) Status(context.Context) ([]hstack.ServiceStatus, error) {
	return nil, nil
}

func (f *fakeStack) Endpoints() map[string]hstack.Endpoint {
	return map[string]hstack.Endpoint{"gateway": {HTTP: strings.TrimPrefix(f.srv.URL, "http://")}}
}

func (f *fakeStack) Logs(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("no logs")
}

func (f *fakeStack) Stats(context.Context, string) (hstack.Stats, error) {
	return hstack.Stats{}, nil
}

func (f *fakeStack) Fault(context.Context, string, hstack.Fault) error { return nil }

var _ hstack.Driver = (*fakeStack)(nil)

func runWithStack(ctx context.Context, t *testing.T, fs *fakeStack, args ...string) (string, error) {
	t.Helper()
	ios, _, out, _ := cli.Test()
	cmd := newCmdReplay(&Options{IO: ios, openStack: func(_ context.Context, driver string) (hstack.Driver, error) {
		assert.Equal(t, "local", driver)
		return fs, nil
	}})
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestStackTargetIsUpForTheRunOnly(t *testing.T) {
	var seen atomic.Int32
	fs := &fakeStack{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen.Add(1)
		_, _ = w.Write([]byte(`{"token":"live-0123456789"}`))
	}))}
	defer fs.srv.Close()
	sc := writeScenario(t, "recording: {path: rec.rpr}\ntarget: {stack: {driver: local, service: gateway}}\ntiming: {mode: asap}\nout: "+t.TempDir()+"\n")
	_, err := runWithStack(context.Background(), t, fs, "--scenario", sc)
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, cli.ExitCode(err), "%v", err)
	assert.Equal(t, int32(6), seen.Load(), "the stack's gateway got the replay")
	assert.Equal(t, [2]int32{1, 1}, [2]int32{fs.ups.Load(), fs.downs.Load()}, "up once, down once")

	// --target local on the command line does the same for a flags-only run.
	fs2 := &fakeStack{srv: fs.srv}
	_, err = runWithStack(context.Background(), t, fs2, sampleRecording(t), "--target", "local", "--timing", "asap", "--out", t.TempDir())
	assert.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, cli.ExitCode(err), "%v", err)
	assert.Equal(t, [2]int32{1, 1}, [2]int32{fs2.ups.Load(), fs2.downs.Load()})

	// TLS flags cannot apply to a stack: refused before it starts.
	fs4 := &fakeStack{srv: fs.srv}
	_, err = runWithStack(context.Background(), t, fs4, "--scenario", sc, "--insecure-skip-verify")
	assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err), "%v", err)
	assert.ErrorContains(t, err, "--insecure-skip-verify applies to https targets only")
	assert.Zero(t, fs4.ups.Load(), "the stack was never started")

	// A failed start is reported and still torn down.
	fs3 := &fakeStack{srv: fs.srv, upErr: errors.New("gateway not ready")}
	_, err = runWithStack(context.Background(), t, fs3, "--scenario", sc)
	assert.ErrorContains(t, err, "stack up: gateway not ready")
	assert.Equal(t, int32(1), fs3.downs.Load())
}

// TestStackTornDownOnInterrupt cancels the command's context from inside
// the first replayed request, as Ctrl-C would, and checks the stack is
// still taken down.
func TestStackTornDownOnInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := &fakeStack{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		cancel()
		_, _ = w.Write([]byte(`{}`))
	}))}
	defer fs.srv.Close()
	sc := writeScenario(t, "recording: {path: rec.rpr}\ntiming: {mode: asap}\nout: "+t.TempDir()+"\n")
	_, err := runWithStack(ctx, t, fs, "--scenario", sc)
	assert.Equal(t, cli.ExitInterrupted, cli.ExitCode(err), "%v", err)
	assert.Equal(t, [2]int32{1, 1}, [2]int32{fs.ups.Load(), fs.downs.Load()}, "the default target is the local stack's gateway, torn down after Ctrl-C")
}
