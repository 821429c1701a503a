package replay

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

// runAsync runs r in a goroutine; the channel gives its outcome.
func runAsync(r *Replayer) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(context.Background())
		done <- err
	}()
	return done
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting: " + what)
	}
}

// TestStoreFailureEndsTheRun: once the store cannot read exchanges back,
// every later read would fail too. The run stops, what was never sent is
// dropped rather than reported unbuilt one by one, and Run returns the
// ErrStore failure.
func TestStoreFailureEndsTheRun(t *testing.T) {
	var pbs []*rprpb.Exchange
	for i, path := range []string{"/first", "/second", "/third"} {
		pbs = append(pbs, ex{id: uint64(i + 1), session: "u", conn: 1, path: path,
			startMs: int64(i) * 2, endMs: int64(i)*2 + 1}.pb())
	}
	p, err := plan.Build(pbs)
	require.NoError(t, err)
	s, err := p.Schedule(plan.ASAP)
	require.NoError(t, err)
	st, err := LoadExchanges(context.Background(), records(pbs), p)
	require.NoError(t, err)
	defer st.Close()
	target, sn := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			_ = st.Close() // the store's file fails under the run
		}
		ok(w, r)
	})
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, st, target, OutDir(dir))
	require.ErrorIs(t, err, ErrStore)
	assert.Contains(t, err.Error(), "exchange 2")
	assert.Len(t, sn.all(), 1)
	assert.Equal(t, 1, sum.Requests.Sent)
	assert.Equal(t, 1, sum.Requests.Unbuilt, "the request whose read failed")
	assert.Equal(t, 1, sum.Requests.Dropped, "the run stopped before the next")
	assert.False(t, sum.Valid)
	res := resultsByID(t, dir)
	require.Len(t, res, 3, "the run directory is written even so")
	assert.Contains(t, res[2].GetError(), "not sent")
	assert.True(t, res[3].GetDropped())
}

// TestIdleWorkersExit: the workers a burst needed exit once idle for
// workerIdle, while the run goes on.
func TestIdleWorkersExit(t *testing.T) {
	const burst = 8
	var (
		rp      atomic.Pointer[Replayer]
		arrived atomic.Int32
		peak    atomic.Int64
		all     = make(chan struct{}) // every burst request is in flight
		holding = make(chan struct{})
		release = make(chan struct{})
	)
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/burst":
			if arrived.Add(1) == burst {
				peak.Store(rp.Load().workers.Load())
				close(all)
			}
			select {
			case <-all:
			case <-r.Context().Done():
			}
		case "/hold": // keeps the run going while the burst's workers idle
			close(holding)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		ok(w, r)
	})
	exs := []ex{{id: 100, session: "hold", conn: 100, path: "/hold", startMs: 0, endMs: 1}}
	for i := range burst {
		exs = append(exs, ex{id: uint64(i + 1), session: "b" + strconv.Itoa(i), conn: uint64(i + 1),
			path: "/burst", startMs: 0, endMs: 1})
	}
	s, src := fixture(t, plan.ASAP, exs...)
	r, err := New(s, src, target)
	require.NoError(t, err)
	r.workerIdle = time.Nanosecond
	rp.Store(r)
	done := runAsync(r)
	waitFor(t, holding, "the holding request")
	waitFor(t, all, "the burst")
	assert.Equal(t, int64(burst+1), peak.Load(), "one worker per request in flight")
	assert.Eventually(t, func() bool { return r.workers.Load() == 1 }, 10*time.Second, time.Millisecond,
		"the burst's idle workers exit; the holding request's remains")
	close(release)
	require.NoError(t, <-done)
	assert.Zero(t, r.workers.Load(), "no worker outlives the run")
}

// stalledWriterChain replays one session of n chained requests (/c/0 ..
// /c/n-1) whose results writer stalls from the first Result on, until the
// test unlocks r.mu. onPath sees every request's path.
func stalledWriterChain(t *testing.T, n int, onPath func(path string)) (r *Replayer, done <-chan error) {
	t.Helper()
	var (
		rp      atomic.Pointer[Replayer]
		stalled = make(chan struct{})
	)
	target, _ := server(t, func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/c/0" {
			rp.Load().mu.Lock() // the writer stalls from the first Result on
			close(stalled)
		}
		onPath(req.URL.Path)
		ok(w, req)
	})
	var exs []ex
	for i := range n {
		exs = append(exs, ex{id: uint64(i + 1), session: "c", conn: 1, path: "/c/" + strconv.Itoa(i),
			startMs: int64(i) * 2, endMs: int64(i)*2 + 1})
	}
	s, src := fixture(t, plan.ASAP, exs...)
	r, err := New(s, src, target)
	require.NoError(t, err)
	rp.Store(r)
	done = runAsync(r)
	waitFor(t, stalled, "the first request")
	return r, done
}

// TestSuccessorDoesNotWaitForResultsWriter: when the writer of
// results.rpr is behind (here stalled on the lock it takes per Result)
// and its buffer is full, a chain's next request still goes out.
func TestSuccessorDoesNotWaitForResultsWriter(t *testing.T) {
	n := resultsBuffer + 8
	last := "/c/" + strconv.Itoa(n-1)
	reached := make(chan struct{})
	r, done := stalledWriterChain(t, n, func(path string) {
		if path == last {
			close(reached)
		}
	})
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Error("the chain waited for the stalled results writer")
	}
	r.mu.Unlock()
	require.NoError(t, <-done)
	p := r.Progress()
	assert.Equal(t, n, p.Sent, "every Result reached the writer")
	assert.Zero(t, p.Errors)
}

// TestSuccessorsWaitForAStalledWriterPastTheCap: while the writer is
// stalled, at most resultsBuffer completions hand their successor to
// another worker and wait alone; the next one waits with its successor, so
// a stalled writer holds a bounded number of goroutines and Results.
func TestSuccessorsWaitForAStalledWriterPastTheCap(t *testing.T) {
	// The writer takes the first Result, then stalls: resultsBuffer more
	// fill its buffer, resultsBuffer completions wait alone, and the one
	// after them waits with its successor, which is not sent.
	firstHeld := 2*resultsBuffer + 2
	n := firstHeld + 4
	var served atomic.Int64
	held := make(chan struct{})
	r, done := stalledWriterChain(t, n, func(path string) {
		served.Add(1)
		if path == "/c/"+strconv.Itoa(firstHeld) {
			close(held)
		}
	})
	require.Eventually(t, func() bool { return served.Load() == int64(firstHeld) }, 30*time.Second, time.Millisecond,
		"the chain runs on past the full buffer up to the cap")
	select {
	case <-held:
		t.Error("past the cap, a successor went out while the writer was stalled")
	case <-time.After(time.Second): // an absence: what an uncapped chain does takes microseconds
	}
	r.mu.Unlock()
	require.NoError(t, <-done)
	assert.Equal(t, n, r.Progress().Sent, "every Result reached the writer")
}
