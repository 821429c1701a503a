package sink_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/sink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func rec(id int) *rprpb.Record {
	return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: &rprpb.Exchange{Id: uint64(id)}}}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestQueueDeliversInOrderAndDrainsOnClose(t *testing.T) {
	var c sink.Capture
	q := sink.NewQueue(&c, sink.Capacity(1000))
	for i := range 500 {
		require.NoError(t, q.Write(context.Background(), rec(i)))
	}
	require.NoError(t, q.Close(ctxT(t)))
	got := c.Records()
	require.Len(t, got, 500)
	for i, r := range got {
		assert.EqualValues(t, i, r.GetExchange().GetId())
	}
	st := q.Stats()
	assert.EqualValues(t, 500, st.Enqueued)
	assert.EqualValues(t, 500, st.Written)
	assert.Zero(t, st.Dropped())
	assert.Zero(t, st.Depth)
}

// blockingSink blocks every Write until release is closed, and says when the
// first Write has started.
type blockingSink struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	n       atomic.Int64
}

func newBlocking() *blockingSink {
	return &blockingSink{started: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingSink) Write(context.Context, *rprpb.Record) error {
	b.once.Do(func() { close(b.started) })
	<-b.release
	b.n.Add(1)
	return nil
}

func TestQueueFailsOpenWhenNextSinkBlocks(t *testing.T) {
	b := newBlocking()
	q := sink.NewQueue(b, sink.Capacity(4))
	require.NoError(t, q.Write(context.Background(), rec(0)))
	<-b.started // the consumer holds record 0 and is stuck in the sink
	var full int
	for i := 1; i <= 100; i++ {
		err := q.Write(context.Background(), rec(i))
		if errors.Is(err, sink.ErrQueueFull) {
			full++
		} else {
			require.NoError(t, err)
		}
	}
	st := q.Stats()
	assert.Equal(t, 96, full, "4 fit in the queue, the rest are dropped")
	assert.EqualValues(t, 96, st.DroppedFull)
	assert.EqualValues(t, 5, st.Enqueued)
	assert.Equal(t, 4, st.Depth)
	close(b.release)
	require.NoError(t, q.Close(ctxT(t)))
	assert.EqualValues(t, 5, b.n.Load())
	assert.EqualValues(t, 5, q.Stats().Written)
}

func TestQueueCountsWriteErrorsAndKeepsGoing(t *testing.T) {
	boom := errors.New("disk full")
	var n atomic.Int64
	q := sink.NewQueue(sink.Func(func(context.Context, *rprpb.Record) error {
		if n.Add(1)%2 == 0 {
			return boom
		}
		return nil
	}))
	for i := range 10 {
		require.NoError(t, q.Write(context.Background(), rec(i)), "write errors never reach the writer")
	}
	require.NoError(t, q.Close(ctxT(t)))
	st := q.Stats()
	assert.EqualValues(t, 5, st.WriteErrors)
	assert.EqualValues(t, 5, st.Written)
	assert.EqualValues(t, 5, st.Dropped())
	assert.ErrorIs(t, q.Err(), boom)
}

func TestQueueWriteAfterCloseIsDroppedAndCounted(t *testing.T) {
	q := sink.NewQueue(&sink.Capture{})
	require.NoError(t, q.Close(ctxT(t)))
	require.NoError(t, q.Close(ctxT(t)), "Close twice is fine")
	assert.ErrorIs(t, q.Write(context.Background(), rec(1)), sink.ErrQueueClosed)
	assert.EqualValues(t, 1, q.Stats().DroppedClosed)
}

func TestQueueCloseGivesUpWhenContextEnds(t *testing.T) {
	b := newBlocking()
	q := sink.NewQueue(b)
	require.NoError(t, q.Write(context.Background(), rec(0)))
	<-b.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, q.Close(ctx), context.Canceled)
	close(b.release)
	require.NoError(t, q.Close(ctxT(t)), "a later Close waits for the end")
}

// flushSink records Flush and Sync calls.
type flushSink struct {
	sink.Capture
	flushes, syncs chan struct{}
}

func (f *flushSink) Flush() error {
	select {
	case f.flushes <- struct{}{}:
	default:
	}
	return nil
}

func (f *flushSink) Sync() error {
	select {
	case f.syncs <- struct{}{}:
	default:
	}
	return nil
}

func TestQueueFlushesAndSyncsPeriodically(t *testing.T) {
	f := &flushSink{flushes: make(chan struct{}, 1), syncs: make(chan struct{}, 1)}
	q := sink.NewQueue(f, sink.FlushInterval(time.Millisecond), sink.SyncInterval(2*time.Millisecond))
	defer func() { require.NoError(t, q.Close(ctxT(t))) }()
	require.NoError(t, q.Write(context.Background(), rec(1)))
	ctx := ctxT(t)
	for _, ch := range []chan struct{}{f.flushes, f.syncs} {
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("no periodic flush/sync")
		}
	}
}

func TestQueueFinalFlushAndSyncOnClose(t *testing.T) {
	f := &flushSink{flushes: make(chan struct{}, 1), syncs: make(chan struct{}, 1)}
	q := sink.NewQueue(f, sink.FlushInterval(0), sink.SyncInterval(0))
	require.NoError(t, q.Write(context.Background(), rec(1)))
	require.NoError(t, q.Close(ctxT(t)))
	assert.Len(t, f.flushes, 1)
	assert.Len(t, f.syncs, 1)
}

func TestQueueConcurrentWritersAndClose(t *testing.T) {
	var c sink.Capture
	q := sink.NewQueue(&c, sink.Capacity(64))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				_ = q.Write(context.Background(), rec(g*1000+i))
			}
		})
	}
	wg.Go(func() { _ = q.Close(context.Background()) })
	wg.Wait()
	require.NoError(t, q.Close(ctxT(t)))
	st := q.Stats()
	assert.EqualValues(t, 1600, st.Enqueued+st.DroppedFull+st.DroppedClosed, "every write is accounted for")
	assert.EqualValues(t, st.Enqueued, st.Written, "nothing accepted is lost")
	assert.Len(t, c.Records(), int(st.Written))
}

func TestFileFlushAndSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.rpr")
	w, err := recording.Create(path, nil)
	require.NoError(t, err)
	f := sink.File{W: w}
	require.NoError(t, f.Write(context.Background(), rec(1)))
	require.NoError(t, f.Flush())
	require.NoError(t, f.Sync())
	assert.EqualValues(t, 1, w.Stats().Blocks, "flush wrote the open block")
	require.NoError(t, w.Close())
}
