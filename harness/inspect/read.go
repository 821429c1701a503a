package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// RecordReader yields records until io.EOF; *recording.Reader is one.
type RecordReader interface {
	Next() (*rprpb.Record, error)
}

var _ RecordReader = (*recording.Reader)(nil)

// ctxCheckEvery is how many records pass between context checks.
const ctxCheckEvery = 4096

// Read adds every record r yields. Damage (a *recording.PositionError) is
// recorded with AddDamage and reading goes on past corrupt blocks, so the
// report covers everything that survived; Read then returns nil. Any other
// error, or the context's, is returned.
func (s *Stats) Read(ctx context.Context, r RecordReader) error {
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			// Records the writer counted but we never saw mean damage even
			// when no single block failed loudly.
			if c, ok := r.(interface{ Complete() bool }); ok && !c.Complete() {
				s.incomplete = true
			}
			return nil
		}
		var pe *recording.PositionError
		switch {
		case errors.As(err, &pe):
			truncated := errors.Is(err, recording.ErrTruncated)
			s.AddDamage(Damage{Offset: pe.Offset, Records: pe.Records, Reason: pe.Reason, Truncated: truncated})
			if truncated || s.damageCount() >= maxDamage {
				return nil
			}
		case err != nil:
			return fmt.Errorf("inspect: %w", err)
		default:
			s.Add(rec)
		}
	}
}

func (s *Stats) damageCount() int { return len(s.damage) }
