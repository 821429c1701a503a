package plan_test

import (
	"testing"

	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func benchBuild(b *testing.B, n int) {
	exs := synthetic(n, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := plan.Build(exs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/exchange")
}

// BenchmarkBuild plans a synthetic 100k-exchange recording; the 10k case
// beside it shows whether building stays linear.
func BenchmarkBuild(b *testing.B) {
	b.Run("10k", func(b *testing.B) { benchBuild(b, 10_000) })
	b.Run("100k", func(b *testing.B) { benchBuild(b, 100_000) })
}

func BenchmarkSimulate(b *testing.B) {
	p, err := plan.Build(synthetic(100_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	s, err := p.Schedule(plan.Causal)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s.Simulate()
	}
}
