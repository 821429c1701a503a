package replaymetrics

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reprise-dev/reprise/harness/replay"
)

// Namespace prefixes every metric name.
const Namespace = "reprise_replay"

// ProgressSource is what the collector reads on each scrape;
// *replay.Replayer is one. Progress must be safe to call concurrently with
// the replay.
type ProgressSource interface{ Progress() replay.Progress }

// ProgressFunc adapts a function to ProgressSource.
type ProgressFunc func() replay.Progress

// Progress calls f.
func (f ProgressFunc) Progress() replay.Progress { return f() }

// Option configures New.
type Option func(*config)

type config struct{ labels prometheus.Labels }

// ConstLabels adds labels to every metric, such as the shard of a scaled-out
// run ({"shard": "2/8"}). Later calls add to earlier ones.
func ConstLabels(l prometheus.Labels) Option {
	return func(c *config) {
		for k, v := range l {
			c.labels[k] = v
		}
	}
}

// metric is one exported figure of replay.Progress.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(replay.Progress) float64
}

type collector struct {
	src     ProgressSource
	metrics []metric
}

// New returns a collector that reads src.Progress once per scrape and
// exports it as constant metrics:
//
//	reprise_replay_requests_planned          gauge    requests in the plan
//	reprise_replay_requests_sent_total       counter  requests sent
//	reprise_replay_requests_done_total       counter  requests finished: sent, dropped or unsupported
//	reprise_replay_requests_dropped_total    counter  requests never sent
//	reprise_replay_errors_total              counter  requests that ended in an error
//	reprise_replay_requests_in_flight        gauge    requests sent and not yet done
//	reprise_replay_elapsed_seconds           gauge    time since the replay started
//	reprise_replay_latency_p99_seconds       gauge    p99 of done − intended send time
//	reprise_replay_generator_lag_p99_seconds gauge    p99 of sent − intended send time
//
// A nil src exports nothing.
func New(src ProgressSource, opts ...Option) prometheus.Collector {
	cfg := config{labels: prometheus.Labels{}}
	for _, o := range opts {
		o(&cfg)
	}
	def := func(name, help string, kind prometheus.ValueType, value func(replay.Progress) float64) metric {
		return metric{prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, nil, cfg.labels), kind, value}
	}
	c := &collector{src: src, metrics: []metric{
		def("requests_planned", "Requests in the replay plan.", prometheus.GaugeValue,
			func(p replay.Progress) float64 { return float64(p.Planned) }),
		def("requests_sent_total", "Requests sent to the target.", prometheus.CounterValue,
			func(p replay.Progress) float64 { return float64(p.Sent) }),
		def("requests_done_total", "Requests finished: sent, dropped or unsupported.", prometheus.CounterValue,
			func(p replay.Progress) float64 { return float64(p.Done) }),
		def("requests_dropped_total", "Planned requests that were never sent.", prometheus.CounterValue,
			func(p replay.Progress) float64 { return float64(p.Dropped) }),
		def("errors_total", "Requests that ended in an error.", prometheus.CounterValue,
			func(p replay.Progress) float64 { return float64(p.Errors) }),
		def("requests_in_flight", "Requests sent and not yet finished.", prometheus.GaugeValue,
			func(p replay.Progress) float64 { return float64(p.InFlight) }),
		def("elapsed_seconds", "Time since the replay started.", prometheus.GaugeValue,
			func(p replay.Progress) float64 { return p.Elapsed.Seconds() }),
		def("latency_p99_seconds", "99th percentile of latency measured from the intended send time (done minus intended).", prometheus.GaugeValue,
			func(p replay.Progress) float64 { return p.LatencyP99.Seconds() }),
		def("generator_lag_p99_seconds", "99th percentile of generator lag (sent minus intended send time).", prometheus.GaugeValue,
			func(p replay.Progress) float64 { return p.LagP99.Seconds() }),
	}}
	return c
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src == nil {
		return
	}
	p := c.src.Progress() // one snapshot per scrape: the figures agree with each other
	for _, m := range c.metrics {
		metric, err := prometheus.NewConstMetric(m.desc, m.kind, m.value(p))
		if err != nil { // a bad const label: the registry reports it per scrape
			metric = prometheus.NewInvalidMetric(m.desc, err)
		}
		ch <- metric
	}
}

// Handler serves c in the Prometheus exposition format from a fresh
// registry that also holds the Go runtime and process collectors. A c that
// cannot be registered (nil, or clashing with those) gives a handler that
// answers 500 with the reason rather than a panic.
func Handler(c prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	err := reg.Register(collectors.NewGoCollector())
	if err == nil {
		err = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if err == nil {
		if c == nil {
			err = fmt.Errorf("replaymetrics: nil collector")
		} else if err = reg.Register(c); err != nil {
			err = fmt.Errorf("replaymetrics: register: %w", err)
		}
	}
	if err != nil {
		msg := err.Error()
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, msg, http.StatusInternalServerError)
		})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})
}

var (
	_ prometheus.Collector = (*collector)(nil)
	_ ProgressSource       = ProgressFunc(nil)
	_ ProgressSource       = (*replay.Replayer)(nil)
)
