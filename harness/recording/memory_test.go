package recording_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// heapPeak samples the heap in use every few records and keeps the peak, so
// a test can tell a reader that streams from one that accumulates.
type heapPeak struct {
	every int
	peak  uint64
}

// liveHeap is the heap still reachable after a full collection: unlike the
// peak it does not depend on when the collector last ran, so comparing it at
// two points of a file shows growth with little noise.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (h *heapPeak) sample(i int) {
	if i%h.every != 0 {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapInuse)
}

func smallExchange(i int) *rprpb.Record {
	return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: &rprpb.Exchange{
		Id: uint64(i), Session: "s" + string(rune('a'+i%26)), Protocol: rprpb.Protocol_PROTOCOL_HTTP1,
		StartNs: int64(i) * 1000, EndNs: int64(i)*1000 + 700,
		Request:  &rprpb.Request{Method: "GET", Path: "/v1/items"},
		Response: &rprpb.Response{Status: 200, Body: &rprpb.Body{Data: []byte(`{"ok":true}`), Size: 11}},
	}}}
}

// A recording of a million exchanges is written and read back with the heap
// in use bounded (the peak stays under a fixed bound) and flat: the live heap
// after 100% of the records is the live heap after 10% of them, give or take
// a little. Run it without -race:
//
//	go test -run TestLargeFileFlatMemory ./harness/recording/
func TestLargeFileFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a million records")
	}
	if raceEnabled {
		t.Skip("the race detector distorts heap figures; run without -race")
	}
	const (
		n     = 1_000_000
		bound = 64 << 20
		// slack is what the live heap may grow between 10% and 100% of the
		// file; keeping as little as 5 bytes per record exceeds it.
		slack = 4 << 20
	)
	path := filepath.Join(t.TempDir(), "large.rpr")
	runtime.GC()

	w, err := recording.Create(path, &rprpb.FileHeader{Recorder: "test"})
	require.NoError(t, err)
	write := &heapPeak{every: n / 200}
	var writeLive10 uint64
	for i := 0; i < n; i++ {
		require.NoError(t, w.Write(smallExchange(i)))
		write.sample(i)
		if i == n/10 {
			writeLive10 = liveHeap()
		}
	}
	writeLive100 := liveHeap()
	require.NoError(t, w.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)

	runtime.GC()
	r, err := recording.Open(path)
	require.NoError(t, err)
	defer r.Close()
	read := &heapPeak{every: n / 200}
	var readLive10 uint64
	count := 0
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if rec.GetExchange().GetId() != uint64(count) {
			require.Failf(t, "out of order", "record %d has id %d", count, rec.GetExchange().GetId())
		}
		read.sample(count)
		if count == n/10 {
			readLive10 = liveHeap()
		}
		count++
	}
	readLive100 := liveHeap()
	require.Equal(t, n, count)
	assert.True(t, r.Complete())

	t.Logf("file %.1f MiB; write: heap peak %.1f MiB, live %.2f MiB at 10%% and %.2f at 100%%; read: peak %.1f MiB, live %.2f MiB at 10%% and %.2f at 100%%",
		mib(uint64(fi.Size())), mib(write.peak), mib(writeLive10), mib(writeLive100), mib(read.peak), mib(readLive10), mib(readLive100))
	assert.Less(t, write.peak, uint64(bound), "writer heap peak")
	assert.Less(t, read.peak, uint64(bound), "reader heap peak")
	assert.LessOrEqual(t, writeLive100, writeLive10+slack, "the writer's heap grows with the number of records")
	assert.LessOrEqual(t, readLive100, readLive10+slack, "the reader's heap grows with the number of records")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
