package replay

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/reprise-dev/reprise/harness/replay/guard"
	hstack "github.com/reprise-dev/reprise/harness/stack"
	_ "github.com/reprise-dev/reprise/harness/stack/compose" // stacks.compose
	_ "github.com/reprise-dev/reprise/harness/stack/local"   // stacks.local
	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/scenarios"
)

// stackOpener returns a configured, not yet started, stack driver.
type stackOpener func(ctx context.Context, driver string) (hstack.Driver, error)

// stackDownTimeout bounds the teardown of a stack brought up for a replay,
// which runs even after Ctrl-C.
const stackDownTimeout = time.Minute

func openStack(ctx context.Context, driver string) (hstack.Driver, error) {
	// Its own ID, so that a compose stack the user runs by hand is never
	// the one this replay tears down.
	return hstack.Open(ctx, driver, hstack.ID(fmt.Sprintf("replay-%d", os.Getpid())))
}

// target returns the URL to replay against, bringing a stack up when the
// scenario names one; down tears it down (a no-op for a URL) and must be
// called whatever happens next.
func (o *Options) target(ctx context.Context, sc *scenarios.Scenario) (u *url.URL, down func(), err error) {
	down = func() {}
	raw := sc.Target.URL
	if st := sc.Target.Stack; st != nil {
		// A stack serves plain http: refuse TLS flags before starting it.
		if flag := o.tlsFlag(); flag != "" {
			return nil, down, cli.BadInput(fmt.Errorf("replay: %s applies to https targets only, not a %s stack", flag, st.Driver))
		}
		if raw, down, err = o.upStack(ctx, st); err != nil {
			return nil, func() {}, err
		}
	}
	defer func() {
		if err != nil {
			down()
			down = func() {}
		}
	}()
	u, err = url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, down, cli.BadInput(fmt.Errorf("replay: target %q: want http(s)://host[:port]", raw))
	}
	if u.Scheme != "https" {
		if flag := o.tlsFlag(); flag != "" {
			return nil, down, cli.BadInput(fmt.Errorf("replay: %s applies to https targets only, not %s", flag, u.Redacted()))
		}
	}
	gopts := []guard.Option{guard.Allow(sc.Target.AllowTargets...)}
	if o.resolver != nil {
		gopts = append(gopts, guard.WithResolver(o.resolver))
	}
	if err := guard.Check(ctx, u, gopts...); err != nil {
		return nil, down, cli.BadInput(fmt.Errorf("replay: refusing to replay: %w", err))
	}
	return u, down, nil
}

func (o *Options) upStack(ctx context.Context, st *scenarios.Stack) (string, func(), error) {
	opener := o.openStack
	if opener == nil {
		opener = openStack
	}
	d, err := opener(ctx, st.Driver)
	if err != nil {
		if errors.Is(err, hstack.ErrUnknownDriver) {
			return "", nil, cli.BadInput(fmt.Errorf("replay: target.stack.driver: %w", err))
		}
		return "", nil, fmt.Errorf("replay: stack %s: %w", st.Driver, err)
	}
	down := func() {
		// Teardown outlives the run's context: Ctrl-C must still leave
		// nothing running.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stackDownTimeout)
		defer cancel()
		fmt.Fprintf(o.IO.ErrOut, "replay: stopping the %s stack ...\n", st.Driver)
		if err := d.Down(dctx); err != nil {
			fmt.Fprintf(o.IO.ErrOut, "replay: stack down: %v\n", err)
		}
		if c, ok := d.(io.Closer); ok {
			c.Close()
		}
	}
	fmt.Fprintf(o.IO.ErrOut, "replay: starting the %s stack ...\n", st.Driver)
	if err := d.Up(ctx); err != nil {
		down() // Up leaves nothing behind on failure; Down also closes the driver's client
		return "", nil, fmt.Errorf("replay: stack up: %w", err)
	}
	ep, ok := d.Endpoints()[st.Service]
	if !ok || ep.HTTP == "" {
		down()
		return "", nil, cli.BadInput(fmt.Errorf("replay: target.stack.service: %q has no HTTP endpoint", st.Service))
	}
	fmt.Fprintf(o.IO.ErrOut, "replay: stack up; target %s at http://%s\n", st.Service, ep.HTTP)
	return "http://" + ep.HTTP, down, nil
}

// tlsFlag names the first TLS flag given, "" when none is.
func (o *Options) tlsFlag() string {
	switch {
	case o.CACert != "":
		return "--ca-cert"
	case o.ClientCert != "" || o.ClientKey != "":
		return "--client-cert"
	case o.InsecureSkipVerify:
		return "--insecure-skip-verify"
	}
	return ""
}

// tlsConfig builds the client TLS settings from the flags; nil when none is
// given (the system's roots).
func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.tlsFlag() == "" {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CACert != "" {
		pem, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("replay: --ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("replay: --ca-cert %s: no PEM certificate in it", o.CACert)
		}
		conf.RootCAs = pool
	}
	switch {
	case o.ClientCert != "" && o.ClientKey != "":
		cert, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("replay: --client-cert/--client-key: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	case o.ClientCert != "":
		return nil, errors.New("replay: --client-cert needs --client-key")
	case o.ClientKey != "":
		return nil, errors.New("replay: --client-key needs --client-cert")
	}
	if o.InsecureSkipVerify {
		conf.InsecureSkipVerify = true // #nosec G402 -- asked for by flag, warned about loudly
		fmt.Fprintln(o.IO.ErrOut, strings.TrimSpace(`
replay: WARNING: --insecure-skip-verify: the target's TLS certificate is NOT verified;
replay: anyone on the path can read and change this traffic. Use --ca-cert instead.`))
	}
	return conf, nil
}
