package marketplace

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	buys *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		buys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "marketplace_buys_total",
			Help: "Buys by outcome: ok, sold, insufficient, not_found, invalid, tx_failed.",
		}, []string{"outcome"}),
	}
	for _, o := range []string{outcomeOK, outcomeSold, outcomeInsufficient, outcomeNotFound, outcomeInvalid, outcomeTxFailed} {
		m.buys.WithLabelValues(o)
	}
	return m
}

// Register adds the marketplace's metrics to reg: buys by outcome and, read
// at scrape time, the money in balances, the market's revenue and the items
// sold, so that conservation can be watched from Prometheus.
func (s *Server) Register(reg prometheus.Registerer) error {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	for _, c := range []prometheus.Collector{
		s.metrics.buys,
		gauge("marketplace_balance_sum", "Sum of all player balances.", func() float64 { return float64(s.Totals().Balances) }),
		gauge("marketplace_revenue_total", "Money the market has been paid.", func() float64 { return float64(s.Totals().Revenue) }),
		gauge("marketplace_items_sold", "Items with an owner.", func() float64 { return float64(s.Totals().ItemsSold) }),
		gauge("marketplace_players", "Players known to the marketplace.", func() float64 { return float64(s.Totals().Players) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Totals is a consistent snapshot of the marketplace's books.
type Totals struct {
	Players   int
	Balances  int64
	Revenue   int64
	ItemsSold int
	// Negative counts players whose balance is below zero.
	Negative int
}

// Totals takes the snapshot under the lock.
func (s *Server) Totals() Totals {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Totals{Players: len(s.balances), Revenue: s.revenue}
	for _, b := range s.balances {
		t.Balances += b
		if b < 0 {
			t.Negative++
		}
	}
	for _, it := range s.items {
		if it.owner != "" {
			t.ItemsSold++
		}
	}
	return t
}
