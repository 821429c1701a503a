package replay

import (
	"context"
	"fmt"
	"iter"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// LoadExchanges reads the exchanges a plan replays from a record stream
// (recording.Reader.All yields one), keeping only those, so a window of a
// long recording costs the memory of the window.
func LoadExchanges(ctx context.Context, seq iter.Seq2[*rprpb.Record, error], p *plan.Plan) (Exchanges, error) {
	want := make(map[uint64]bool, len(p.Nodes))
	for _, n := range p.Nodes {
		want[n.ID] = true
	}
	out := make(Exchanges, len(p.Nodes))
	for rec, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("replay: load exchanges: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if ex := rec.GetExchange(); ex != nil && want[ex.GetId()] {
			out[ex.GetId()] = ex
		}
	}
	for i, n := range p.Nodes {
		if out[n.ID] == nil {
			return nil, fmt.Errorf("%w: node %d, exchange %d", ErrMissingExchange, i, n.ID)
		}
	}
	return out, nil
}
