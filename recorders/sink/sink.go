package sink

import (
	"context"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Sink receives records. Implementations own the record after Write returns
// nil; callers must not modify it afterwards.
type Sink interface {
	Write(ctx context.Context, rec *rprpb.Record) error
}

// Func adapts a function to Sink.
type Func func(ctx context.Context, rec *rprpb.Record) error

// Write calls f.
func (f Func) Write(ctx context.Context, rec *rprpb.Record) error { return f(ctx, rec) }

// File writes records to a recording.
type File struct{ W *recording.Writer }

// Write appends the record to the recording.
func (f File) Write(_ context.Context, rec *rprpb.Record) error { return f.W.Write(rec) }

// Capture keeps every record in memory, for tests.
type Capture struct {
	mu      sync.Mutex
	records []*rprpb.Record
	notify  chan struct{}
}

// Write stores a copy of the record.
func (c *Capture) Write(_ context.Context, rec *rprpb.Record) error {
	c.mu.Lock()
	c.records = append(c.records, proto.Clone(rec).(*rprpb.Record))
	ch := c.notify
	c.notify = nil
	c.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return nil
}

// Records returns what has been written so far.
func (c *Capture) Records() []*rprpb.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*rprpb.Record(nil), c.records...)
}

// Wait blocks until at least n records have been written or ctx ends, and
// returns the records. It lets tests synchronise without sleeping.
func (c *Capture) Wait(ctx context.Context, n int) ([]*rprpb.Record, error) {
	for {
		c.mu.Lock()
		if len(c.records) >= n {
			out := append([]*rprpb.Record(nil), c.records...)
			c.mu.Unlock()
			return out, nil
		}
		if c.notify == nil {
			c.notify = make(chan struct{})
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return c.Records(), ctx.Err()
		}
	}
}

var (
	_ Sink = Func(nil)
	_ Sink = File{}
	_ Sink = (*Capture)(nil)
)
