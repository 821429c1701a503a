package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	// The proxy classifies and splits exchanges with the registered codecs;
	// importing the in-tree ones keeps it whole whatever else is linked.
	_ "github.com/reprise-dev/reprise/extensions/protocols/grpc"
	_ "github.com/reprise-dev/reprise/extensions/protocols/http"
	_ "github.com/reprise-dev/reprise/extensions/protocols/websocket"
	"github.com/reprise-dev/reprise/harness/protocol"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/redact"
	"github.com/reprise-dev/reprise/recorders/session"
	"github.com/reprise-dev/reprise/recorders/sink"
)

// ErrConfig marks errors caused by the proxy's or recorder's configuration
// (a bad upstream URL, an unreadable certificate, an unusable address).
var ErrConfig = errors.New("proxy: bad configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// Proxy is a transparent reverse proxy that records every exchange into a
// sink. It is an http.Handler; serve it with ConnContext set on the
// http.Server so that exchanges carry connection and stream IDs.
type Proxy struct {
	upstream    *url.URL
	sink        sink.Sink
	bodyCap     int64
	exchangeCap int64
	maxMessages int
	limits      protocol.Limits   // the three above, for the codecs' splitters
	codecs      protocol.Resolver // the registered codecs, taken at New

	sessions    session.Chain
	redactor    *redact.Redactor // redacts inline
	hider       *redact.Redactor // hides secret session keys
	hideFn      func(string) string
	sensitive   []string
	anchor      time.Time
	reg         prometheus.Registerer
	log         *slog.Logger
	upstreamTLS *tls.Config

	rp      *httputil.ReverseProxy
	h1, h2  *http.Transport
	metrics *metrics

	ids, connIDs atomic.Uint64
	recorded     atomic.Int64
	dropped      atomic.Int64
	sinkErrors   atomic.Int64
	capturedB    atomic.Int64

	// inflight counts handlers still running (upgraded connections included),
	// so a shutdown can wait for every exchange to reach the sink.
	inflight sync.WaitGroup
	upgrades sync.Map // *wsConn -> struct{}: open upgraded connections
}

// New returns a proxy to upstream (http:// or https://) that writes one
// record per exchange to s. Writes to s happen on the request's goroutine, so
// s must not block: give it a *sink.Queue.
func New(upstream *url.URL, s sink.Sink, opts ...Option) (*Proxy, error) {
	if upstream == nil || (upstream.Scheme != "http" && upstream.Scheme != "https") || upstream.Host == "" {
		return nil, configErr("upstream %q: want an http:// or https:// URL with a host", fmt.Sprint(upstream))
	}
	if s == nil {
		return nil, configErr("no sink")
	}
	p := &Proxy{
		upstream:    upstream,
		sink:        s,
		bodyCap:     DefaultBodyCap,
		exchangeCap: DefaultExchangeCap,
		maxMessages: DefaultMaxMessages,
		anchor:      time.Now(),
		log:         slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(p)
	}
	if p.sessions == nil {
		p.sessions = session.Default()
	}
	p.codecs = protocol.NewResolver()
	p.limits = protocol.Limits{
		MessageCap:  int(p.bodyCap),
		TotalCap:    int(p.exchangeCap),
		MaxMessages: p.maxMessages,
		SizesOnly:   p.bodyCap == 0 || p.exchangeCap == 0,
	}
	if p.hider == nil {
		p.hider = p.redactor
	}
	if p.hider != nil {
		p.hideFn = p.hide
		p.sensitive = p.hider.SensitiveHeaders()
	}
	p.h1, p.h2 = newTransports(upstream, p.upstreamTLS)
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      protocolRouter{h1: p.h1, h2: p.h2},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		BufferPool:     &copyBuffers,
	}
	if p.reg != nil {
		m, err := newMetrics(p)
		if err != nil {
			return nil, err
		}
		p.metrics = m
	}
	return p, nil
}

// newTransports builds the upstream transports: HTTP/1.1 for HTTP/1.1 clients
// (WebSocket upgrades need it), HTTP/2 for HTTP/2 clients (gRPC needs it),
// over TLS for https:// and h2c with prior knowledge for http://.
func newTransports(upstream *url.URL, tlsConf *tls.Config) (h1, h2 *http.Transport) {
	base := func() *http.Transport {
		return &http.Transport{
			Proxy: nil,
			DialContext: (&net.Dialer{
				Timeout:   10 * time.Second,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			MaxIdleConns:          4096,
			MaxIdleConnsPerHost:   1024,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			// The client's Accept-Encoding passes through untouched and the
			// body is recorded as it crossed the wire, still encoded.
			DisableCompression: true,
			TLSClientConfig:    tlsConf.Clone(),
		}
	}
	h1, h2 = base(), base()
	var p1, p2 http.Protocols
	p1.SetHTTP1(true)
	if upstream.Scheme == "https" {
		// ALPN decides; a gRPC server always offers h2.
		p2.SetHTTP2(true)
		p2.SetHTTP1(true)
	} else {
		p2.SetUnencryptedHTTP2(true)
	}
	h1.Protocols, h2.Protocols = &p1, &p2
	return h1, h2
}

// protocolRouter sends each request upstream in the HTTP version the client
// used.
type protocolRouter struct{ h1, h2 http.RoundTripper }

func (r protocolRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.ProtoMajor == 2 {
		return r.h2.RoundTrip(req)
	}
	return r.h1.RoundTrip(req)
}

// ServeHTTP forwards the request upstream and records the exchange once the
// response has been relayed in full.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.inflight.Add(1)
	defer p.inflight.Done()
	x := p.begin(r)
	if r.Body != nil && r.Body != http.NoBody {
		x.reqTap = bodyTap{x: x, rc: r.Body, dir: rprpb.Direction_DIRECTION_REQUEST, declared: r.ContentLength}
		r.Body = &x.reqTap
	}
	if cs := connOf(r); cs != nil && r.ProtoMajor == 1 {
		// An HTTP/1 connection runs one handler at a time, and the hooks
		// run on the handler's goroutine: the connection can carry the
		// exchange, which spares a copy of the request per exchange.
		cs.cur = x
		defer func() { cs.cur = nil }()
	} else {
		r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x))
	}
	completed := false
	defer func() {
		// ReverseProxy panics with http.ErrAbortHandler when the response
		// copy fails half way; the exchange is still recorded.
		if !completed {
			x.fail("response copy aborted")
		}
		p.finish(x)
	}()
	p.rp.ServeHTTP(w, r)
	completed = true
}

type exchangeKey struct{}

// exchangeOf finds the exchange of a request the handler passed on (the
// outgoing request ReverseProxy derived from it shares its context).
func exchangeOf(r *http.Request) *exchange {
	if r.ProtoMajor == 1 {
		if cs := connOf(r); cs != nil && cs.cur != nil {
			return cs.cur
		}
	}
	x, _ := r.Context().Value(exchangeKey{}).(*exchange)
	return x
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	// The Host header becomes the upstream's, as staging expects; the
	// recording keeps the client's.
	pr.SetURL(p.upstream)
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	x := exchangeOf(resp.Request)
	if x == nil {
		return nil
	}
	x.gotResponse(resp)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			// The codec splits what it can read (WebSocket frames without
			// extensions); any other upgrade is only counted, but tracked
			// all the same so that a shutdown can end it.
			c := newWSConn(x, rwc, resp.Header)
			p.upgrades.Store(c, struct{}{})
			resp.Body = c
		}
		return nil
	}
	if resp.Body != nil && resp.Body != http.NoBody {
		x.respTap = bodyTap{x: x, rc: resp.Body, dir: rprpb.Direction_DIRECTION_RESPONSE, declared: resp.ContentLength}
		resp.Body = &x.respTap
	}
	return nil
}

// StatusClientClosedRequest is what the proxy records for an exchange whose
// client went away before the upstream answered (nginx's 499). No status
// reached anyone; 502 would blame the service for the client's leaving.
const StatusClientClosedRequest = 499

// errorHandler answers 502 as ReverseProxy's default does, and records why.
func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	msg, status := "upstream: "+err.Error(), http.StatusBadGateway
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		msg, status = "client: "+err.Error(), StatusClientClosedRequest
	}
	if x := exchangeOf(r); x != nil {
		x.upstreamFailed(status, msg)
	}
	p.log.Debug("proxy error", "method", r.Method, "path", r.URL.Path, "err", err)
	w.WriteHeader(http.StatusBadGateway)
}

// ConnContext numbers accepted connections; set it as http.Server.ConnContext.
// The state it attaches relies on net/http running one handler at a time
// per HTTP/1 connection; do not share the returned context between
// connections.
func (p *Proxy) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{id: p.connIDs.Add(1)})
}

type connKey struct{}

func connOf(r *http.Request) *connState {
	cs, _ := r.Context().Value(connKey{}).(*connState)
	return cs
}

// connState is what the proxy knows about one client connection.
type connState struct {
	id uint64
	// streams counts HTTP/2 handlers started on the connection. net/http does
	// not expose stream IDs, so the n-th handler gets the n-th client stream
	// ID, 2n-1: exact for clients that open streams one at a time and
	// numbered in handler-arrival order when streams race.
	streams atomic.Uint32
	// cur is the exchange of the HTTP/1 handler running on the connection;
	// only that handler's goroutine touches it.
	cur *exchange
}

func (p *Proxy) since() time.Duration { return time.Since(p.anchor) }

// classify finds the codec that claims the request and the recording's name
// for its protocol.
func (p *Proxy) classify(r *http.Request) (protocol.Codec, rprpb.Protocol) {
	info := protocol.RequestInfo{ProtoMajor: r.ProtoMajor, TLS: r.TLS != nil, Header: r.Header}
	if c := p.codecs.Resolve(info); c != nil {
		return c, c.Protocol(info)
	}
	// No codec at all (an empty registry): name the HTTP version.
	switch {
	case r.ProtoMajor < 2:
		return nil, rprpb.Protocol_PROTOCOL_HTTP1
	case r.TLS != nil:
		return nil, rprpb.Protocol_PROTOCOL_H2
	}
	return nil, rprpb.Protocol_PROTOCOL_H2C
}

// Wait blocks until every handler, upgraded connections included, has
// returned and handed its exchange to the sink, or ctx ends.
func (p *Proxy) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		p.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("proxy: waiting for in-flight exchanges: %w", ctx.Err())
	}
}

// CloseUpgraded closes every upgraded (WebSocket) connection. http.Server's
// Shutdown does not track hijacked connections, so a shutdown calls this to
// end them; each is recorded with what it carried so far.
func (p *Proxy) CloseUpgraded() {
	p.upgrades.Range(func(k, _ any) bool {
		_ = k.(*wsConn).Close()
		return true
	})
}

// CloseIdleConnections closes idle upstream connections.
func (p *Proxy) CloseIdleConnections() {
	p.h1.CloseIdleConnections()
	p.h2.CloseIdleConnections()
}

// Stats counts what the proxy has handed to its sink.
type Stats struct {
	Exchanges     int64 // records the sink accepted
	Dropped       int64 // records the sink refused
	CapturedBytes int64 // body, message and frame bytes captured
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	return Stats{Exchanges: p.recorded.Load(), Dropped: p.dropped.Load(), CapturedBytes: p.capturedB.Load()}
}

var _ http.Handler = (*Proxy)(nil)
