package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// Sentinel errors returned by (*Queue).Write. Callers on the traffic path
// ignore them: the queue has already counted the drop.
var (
	// ErrQueueFull means the record was dropped because the queue was full.
	ErrQueueFull = errors.New("sink: queue full, record dropped")
	// ErrQueueClosed means the record arrived after Close and was dropped.
	ErrQueueClosed = errors.New("sink: queue closed, record dropped")
)

// Flusher is implemented by sinks that buffer records; the queue calls Flush
// every flush interval so that a crash loses at most that much.
type Flusher interface{ Flush() error }

// Syncer is implemented by sinks backed by a file; the queue calls Sync every
// sync interval so that a host crash loses at most that much.
type Syncer interface{ Sync() error }

// Defaults for NewQueue.
const (
	DefaultQueueCapacity = 8192
	DefaultFlushInterval = 200 * time.Millisecond
	DefaultSyncInterval  = time.Second
)

// QueueStats counts what a Queue has done. Enqueued = Written + WriteErrors +
// Depth at any quiet moment.
type QueueStats struct {
	Enqueued      int64 // records accepted by Write
	Written       int64 // records the next sink accepted
	DroppedFull   int64 // records dropped because the queue was full
	DroppedClosed int64 // records that arrived after Close
	WriteErrors   int64 // records the next sink refused (they are dropped)
	FlushErrors   int64 // failed Flush or Sync calls
	Depth         int   // records waiting now
	Capacity      int
}

// Dropped is every record that was lost, whatever the reason.
func (s QueueStats) Dropped() int64 { return s.DroppedFull + s.DroppedClosed + s.WriteErrors }

// Queue is a fail-open Sink: Write never blocks, and one goroutine moves
// records to the next sink. When the next sink is slow the queue fills and
// further records are dropped and counted, so recording trouble never slows
// the traffic being recorded. Errors of the next sink are counted and logged,
// never returned to writers.
type Queue struct {
	next     Sink
	ch       chan *rprpb.Record
	flushInt time.Duration
	syncInt  time.Duration
	log      *slog.Logger

	// mu orders Write against Close: writers hold it shared, Close takes it
	// exclusively to flip closed, so no record enters after the final drain.
	mu     sync.RWMutex
	closed bool

	stop chan struct{} // closed by Close: drain and return
	done chan struct{} // closed by the consumer when it has returned

	enqueued, written, droppedFull, droppedClosed, writeErrors, flushErrors atomic.Int64
	closeOnce                                                               sync.Once
	lastErr                                                                 atomic.Pointer[error]
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// Capacity sets how many records may wait for the next sink.
func Capacity(n int) QueueOption {
	return func(q *Queue) {
		if n > 0 {
			q.ch = make(chan *rprpb.Record, n)
		}
	}
}

// FlushInterval sets how often a Flusher next sink is flushed; 0 disables.
func FlushInterval(d time.Duration) QueueOption { return func(q *Queue) { q.flushInt = d } }

// SyncInterval sets how often a Syncer next sink is synced; 0 disables.
func SyncInterval(d time.Duration) QueueOption { return func(q *Queue) { q.syncInt = d } }

// Logger sets where write errors are reported (once per distinct error).
func Logger(l *slog.Logger) QueueOption { return func(q *Queue) { q.log = l } }

// NewQueue starts the goroutine that feeds next. The caller owns the queue
// and must Close it, which ends that goroutine.
func NewQueue(next Sink, opts ...QueueOption) *Queue {
	q := &Queue{
		next:     next,
		flushInt: DefaultFlushInterval,
		syncInt:  DefaultSyncInterval,
		log:      slog.New(slog.DiscardHandler),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(q)
	}
	if q.ch == nil {
		q.ch = make(chan *rprpb.Record, DefaultQueueCapacity)
	}
	go q.run()
	return q
}

// Write enqueues rec without blocking. It returns ErrQueueFull or
// ErrQueueClosed when the record was dropped; the drop is already counted.
func (q *Queue) Write(_ context.Context, rec *rprpb.Record) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.droppedClosed.Add(1)
		return ErrQueueClosed
	}
	select {
	case q.ch <- rec:
		q.enqueued.Add(1)
		return nil
	default:
		q.droppedFull.Add(1)
		return ErrQueueFull
	}
}

// Close stops accepting records, hands every queued record to the next sink,
// flushes and syncs it, and waits for the consumer to end. When ctx ends
// first, Close returns ctx's error and the consumer finishes in the
// background. Close is safe to call more than once.
func (q *Queue) Close(ctx context.Context) error {
	q.closeOnce.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.stop)
	})
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sink: queue drain: %w", ctx.Err())
	}
}

// Stats returns the counters and the current depth.
func (q *Queue) Stats() QueueStats {
	return QueueStats{
		Enqueued:      q.enqueued.Load(),
		Written:       q.written.Load(),
		DroppedFull:   q.droppedFull.Load(),
		DroppedClosed: q.droppedClosed.Load(),
		WriteErrors:   q.writeErrors.Load(),
		FlushErrors:   q.flushErrors.Load(),
		Depth:         len(q.ch),
		Capacity:      cap(q.ch),
	}
}

// Err returns the last error of the next sink, if any.
func (q *Queue) Err() error {
	if p := q.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (q *Queue) run() {
	defer close(q.done)
	ctx := context.Background()
	flushC, stopFlush := ticker(q.flushInt)
	defer stopFlush()
	syncC, stopSync := ticker(q.syncInt)
	defer stopSync()
	dirty := false
	for {
		select {
		case rec := <-q.ch:
			q.deliver(ctx, rec)
			dirty = true
		case <-flushC:
			if dirty {
				q.flush()
			}
		case <-syncC:
			if dirty {
				q.sync()
				dirty = false
			}
		case <-q.stop:
			// Close holds no more writers, so len(q.ch) only shrinks now.
			for {
				select {
				case rec := <-q.ch:
					q.deliver(ctx, rec)
				default:
					q.flush()
					q.sync()
					return
				}
			}
		}
	}
}

func (q *Queue) deliver(ctx context.Context, rec *rprpb.Record) {
	if err := q.next.Write(ctx, rec); err != nil {
		q.writeErrors.Add(1)
		q.noteErr("write", err)
		return
	}
	q.written.Add(1)
}

func (q *Queue) flush() {
	if f, ok := q.next.(Flusher); ok {
		if err := f.Flush(); err != nil {
			q.flushErrors.Add(1)
			q.noteErr("flush", err)
		}
	}
}

func (q *Queue) sync() {
	if s, ok := q.next.(Syncer); ok {
		if err := s.Sync(); err != nil {
			q.flushErrors.Add(1)
			q.noteErr("sync", err)
		}
	}
}

// noteErr logs an error the first time it differs from the previous one, so
// a dead disk does not flood the log with one line per record.
func (q *Queue) noteErr(op string, err error) {
	prev := q.lastErr.Swap(&err)
	if prev == nil || (*prev).Error() != err.Error() {
		q.log.Warn("recording sink failed; records are being dropped", "op", op, "err", err)
	}
}

func ticker(d time.Duration) (<-chan time.Time, func()) {
	if d <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(d)
	return t.C, t.Stop
}

var _ Sink = (*Queue)(nil)
