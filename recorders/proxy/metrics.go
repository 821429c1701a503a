package proxy

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/route"
	"github.com/reprise-dev/reprise/recorders/sink"
)

const namespace = "reprise_record"

// maxRoutes bounds the route label: paths come from clients, and a scanner
// must not be able to grow the registry without limit.
const maxRoutes = 500

// otherRoute labels responses once maxRoutes distinct routes have been seen.
const otherRoute = "{other}"

type metrics struct {
	exchanges [6]prometheus.Counter // by rprpb.Protocol
	captured  prometheus.Counter
	latency   *prometheus.HistogramVec
	responses *prometheus.CounterVec

	routes    sync.Map // string -> struct{}
	routesN   atomic.Int64
	routesMu  sync.Mutex
	statusStr [600]string

	// series caches the label children per request path and method:
	// resolving them through the vectors hashes every label value of every
	// exchange, and the route template allocates for any path with an ID.
	series  sync.Map // seriesKey -> *series
	seriesN atomic.Int64
}

// maxCachedSeries bounds the series cache. Paths come from clients; past the
// bound the cache starts over, so a scanner costs speed, never memory.
const maxCachedSeries = 4096

type seriesKey struct{ path, method string }

// series holds the metric children of one path and method.
type series struct {
	route, method string
	latency       prometheus.Observer
	codes         atomic.Pointer[[]codeCounter] // copied on write, scanned on read
	mu            sync.Mutex                    // serialises writers of codes
}

type codeCounter struct {
	code string
	c    prometheus.Counter
}

func newMetrics(p *Proxy) (*metrics, error) {
	m := &metrics{
		captured: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "captured_bytes_total",
			Help: "Body, gRPC message and WebSocket frame bytes captured into records.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "upstream_latency_seconds",
			Help:    "Time from a request's arrival to the upstream's response headers, by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "responses_total",
			Help: "Responses relayed, by route template, method and HTTP status or gRPC code.",
		}, []string{"route", "method", "code"}),
	}
	exchanges := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "exchanges_total",
		Help: "Exchanges handed to the recording queue, by protocol.",
	}, []string{"protocol"})
	for i := range m.exchanges {
		m.exchanges[i] = exchanges.WithLabelValues(protocolLabel(rprpb.Protocol(i)))
	}
	for i := range m.statusStr {
		m.statusStr[i] = strconv.Itoa(i)
	}
	cs := []prometheus.Collector{m.captured, m.latency, m.responses, exchanges, &dropCollector{p: p}}
	for _, c := range cs {
		if err := p.reg.Register(c); err != nil {
			return nil, fmt.Errorf("proxy: registering metrics: %w", err)
		}
	}
	return m, nil
}

func protocolLabel(p rprpb.Protocol) string {
	switch p {
	case rprpb.Protocol_PROTOCOL_HTTP1:
		return "http1"
	case rprpb.Protocol_PROTOCOL_H2C:
		return "h2c"
	case rprpb.Protocol_PROTOCOL_H2:
		return "h2"
	case rprpb.Protocol_PROTOCOL_GRPC:
		return "grpc"
	case rprpb.Protocol_PROTOCOL_WEBSOCKET:
		return "websocket"
	}
	return "unknown"
}

func (m *metrics) observe(x *exchange, o outcome, recorded bool, captured int64) {
	if recorded && int(o.protocol) < len(m.exchanges) {
		m.exchanges[o.protocol].Inc()
	}
	if captured > 0 {
		m.captured.Add(float64(captured))
	}
	s := m.seriesOf(x.req.URL.Path, methodLabel(x.req.Method))
	if x.resp != nil && x.status == 0 {
		s.latency.Observe((x.firstByte - x.start).Seconds())
	}
	var code string
	switch st := int(o.status); {
	case o.grpc:
		code = grpcCode(o.grpcCode)
	case st >= 0 && st < len(m.statusStr):
		code = m.statusStr[st]
	default:
		code = "other"
	}
	m.counter(s, code).Inc()
}

func (m *metrics) seriesOf(path, method string) *series {
	k := seriesKey{path, method}
	if v, ok := m.series.Load(k); ok {
		return v.(*series)
	}
	rt := m.route(path)
	s := &series{route: rt, method: method, latency: m.latency.WithLabelValues(rt, method)}
	if m.seriesN.Add(1) > maxCachedSeries {
		m.series.Clear()
		m.seriesN.Store(1)
	}
	if v, loaded := m.series.LoadOrStore(k, s); loaded {
		return v.(*series)
	}
	return s
}

// counter returns the responses child of s for code.
func (m *metrics) counter(s *series, code string) prometheus.Counter {
	if cs := s.codes.Load(); cs != nil {
		for _, c := range *cs {
			if c.code == code {
				return c.c
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs []codeCounter
	if p := s.codes.Load(); p != nil {
		for _, c := range *p {
			if c.code == code {
				return c.c
			}
		}
		cs = append(cs, *p...)
	}
	c := m.responses.WithLabelValues(s.route, s.method, code)
	cs = append(cs, codeCounter{code: code, c: c})
	s.codes.Store(&cs)
	return c
}

// route returns the path's template, or otherRoute once too many distinct
// templates have been seen.
func (m *metrics) route(path string) string {
	t := route.Template(path)
	if _, ok := m.routes.Load(t); ok {
		return t
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	if _, ok := m.routes.Load(t); ok {
		return t
	}
	if m.routesN.Load() >= maxRoutes {
		return otherRoute
	}
	m.routesN.Add(1)
	m.routes.Store(t, struct{}{})
	return t
}

// methodLabel keeps the method label to the registered methods; anything a
// client invents is "OTHER".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// queueStatser is what the metrics need from a queue sink.
type queueStatser interface{ Stats() sink.QueueStats }

// dropCollector reports drops and queue depth from the counters where they
// live (the proxy and, when the sink is a queue, the queue), read at scrape
// time.
type dropCollector struct{ p *Proxy }

var (
	dropDesc = prometheus.NewDesc(namespace+"_dropped_total",
		"Exchanges lost before reaching the recording, by reason.", []string{"reason"}, nil)
	depthDesc = prometheus.NewDesc(namespace+"_queue_depth",
		"Records waiting for the recording writer.", nil, nil)
	capacityDesc = prometheus.NewDesc(namespace+"_queue_capacity",
		"Records the queue holds before it drops.", nil, nil)
)

func (d *dropCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dropDesc
	ch <- depthDesc
	ch <- capacityDesc
}

func (d *dropCollector) Collect(ch chan<- prometheus.Metric) {
	var qs sink.QueueStats
	if q, ok := d.p.sink.(queueStatser); ok {
		qs = q.Stats()
	}
	writeErrs := qs.WriteErrors + d.p.sinkErrors.Load()
	ch <- prometheus.MustNewConstMetric(dropDesc, prometheus.CounterValue, float64(qs.DroppedFull), "queue_full")
	ch <- prometheus.MustNewConstMetric(dropDesc, prometheus.CounterValue, float64(writeErrs), "write_error")
	ch <- prometheus.MustNewConstMetric(dropDesc, prometheus.CounterValue, float64(qs.DroppedClosed), "closed")
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(qs.Depth))
	ch <- prometheus.MustNewConstMetric(capacityDesc, prometheus.GaugeValue, float64(qs.Capacity))
}
