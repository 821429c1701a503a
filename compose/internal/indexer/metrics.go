package indexer

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queryDuration *prometheus.HistogramVec
	rows          *prometheus.CounterVec
	blocks        prometheus.Counter
	lagBlocks     prometheus.Gauge
	lagSeconds    prometheus.GaugeFunc
	connected     prometheus.Gauge
	reconnects    prometheus.Counter
	applyErrors   prometheus.Counter
	chainResets   *prometheus.CounterVec
}

// newMetrics registers the indexer's metrics; age is the stored head's
// age in seconds, read at scrape time.
func newMetrics(reg prometheus.Registerer, age func() float64) *metrics {
	m := &metrics{
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "indexer_query_duration_seconds", Help: "Database query duration by query name.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"query"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "indexer_rows_written_total", Help: "Rows written by table.",
		}, []string{"table"}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_blocks_applied_total", Help: "Blocks stored.",
		}),
		lagBlocks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "indexer_lag_blocks", Help: "Chain head (as known from the stream) minus the stored head.",
		}),
		// The sequencer seals a block every interval even when idle, so the
		// stored head's age is how far the index trails the chain in time.
		lagSeconds: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "indexer_lag_seconds", Help: "Age of the newest stored block (0 before the first).",
		}, age),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "indexer_stream_connected", Help: "1 while the block stream is open.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_stream_reconnects_total", Help: "Block stream (re)subscriptions after a failure.",
		}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "indexer_apply_errors_total", Help: "Blocks the store refused or failed to write.",
		}),
		chainResets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "indexer_chain_resets_total", Help: "Store resets to re-follow the sequencer from block 1, by reason (chain_changed, behind_retention).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.queryDuration, m.rows, m.blocks, m.lagBlocks, m.lagSeconds, m.connected, m.reconnects, m.applyErrors, m.chainResets)
	for _, r := range []string{ResetChainChanged, ResetBehindRetention} {
		m.chainResets.WithLabelValues(r)
	}
	for _, q := range []string{"apply_block", "head", "inventory", "history", "reset"} {
		m.queryDuration.WithLabelValues(q)
	}
	for _, t := range []string{"blocks", "txs", "items"} {
		m.rows.WithLabelValues(t)
	}
	return m
}
