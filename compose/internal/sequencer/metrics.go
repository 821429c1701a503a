package sequencer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	txs           prometheus.Counter
	blocks        prometheus.Counter
	blockInterval prometheus.Histogram
	inclusion     prometheus.Histogram
	mempool       prometheus.Gauge
	subscribers   prometheus.Gauge
	dropped       prometheus.Counter
	head          prometheus.Gauge
	logAppend     prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		txs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sequencer_txs_total", Help: "Transactions accepted into the mempool.",
		}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sequencer_blocks_total", Help: "Blocks produced.",
		}),
		blockInterval: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sequencer_block_interval_seconds", Help: "Time between consecutive blocks.",
			Buckets: []float64{.005, .01, .025, .05, .1, .15, .2, .25, .3, .5, 1, 2.5},
		}),
		inclusion: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sequencer_inclusion_latency_seconds", Help: "Time from SubmitTx to the transaction's block.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .2, .3, .5, 1, 2.5, 5},
		}),
		mempool: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sequencer_mempool_depth", Help: "Transactions waiting for a block.",
		}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sequencer_subscribers", Help: "Open StreamBlocks subscriptions.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sequencer_subscribers_dropped_total", Help: "Subscribers disconnected for falling behind.",
		}),
		head: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sequencer_head_block", Help: "Number of the newest block.",
		}),
		logAppend: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sequencer_log_append_seconds", Help: "Time to write and fsync a block to the data dir's log (none without --data-dir).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}),
	}
	reg.MustRegister(m.txs, m.blocks, m.blockInterval, m.inclusion, m.mempool, m.subscribers, m.dropped, m.head, m.logAppend)
	return m
}
