package replay

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func readResults(t *testing.T, dir string) []*rprpb.Result {
	t.Helper()
	rd, err := recording.Open(filepath.Join(dir, ResultsFile))
	require.NoError(t, err)
	defer rd.Close()
	assert.Equal(t, "reprise replay", rd.Header().GetRecorder())
	var out []*rprpb.Result
	for rec, err := range rd.All() {
		require.NoError(t, err)
		require.NotNil(t, rec.GetResult(), "every record of results.rpr is a Result")
		out = append(out, rec.GetResult())
	}
	return out
}

func TestIntendedOffsetsHonoured(t *testing.T) {
	target, _ := server(t, ok)
	var exs []ex
	for i := range 5 {
		exs = append(exs, ex{id: uint64(i + 1), session: "s" + string(rune('a'+i)), conn: uint64(i + 1),
			path: "/v1/ping", startMs: int64(i) * 60, endMs: int64(i)*60 + 1})
	}
	s, src := fixture(t, plan.Recorded, exs...)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 5, sum.Requests.Sent)
	res := resultsByID(t, dir)
	require.Len(t, res, 5)
	late := 0
	for i := range 5 {
		r := res[uint64(i+1)]
		assert.Equal(t, int64(i)*60*int64(time.Millisecond), r.GetIntendedNs(), "intended = recorded offset")
		lag := time.Duration(r.GetSentNs() - r.GetIntendedNs())
		// Never early is what keeps request 5 from going out at t=0 with
		// its neighbours. How late it goes out is the machine's doing (a
		// shared 2-core machine under -race has been seen at 85 ms), which
		// the run measures rather than prevents: the bound only catches a
		// request held back by something other than the clock, such as
		// waiting for an idle worker to time out.
		assert.GreaterOrEqual(t, lag, time.Duration(0), "request %d never sent early", i+1)
		assert.Less(t, lag, workerIdle/2, "request %d sent when due, not held back", i+1)
		if lag > LateThreshold {
			late++
		}
		assert.Equal(t, int32(200), r.GetStatus())
		assert.GreaterOrEqual(t, r.GetFirstByteNs(), r.GetSentNs())
		assert.GreaterOrEqual(t, r.GetDoneNs(), r.GetFirstByteNs())
	}
	assert.Equal(t, late, sum.Requests.Late, "whatever lateness there was is counted")
	var got Summary
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, 5, got.Requests.Planned)
	require.Len(t, got.Routes, 1)
	assert.Equal(t, 5, got.Routes[0].Count)
	_, err = os.Stat(filepath.Join(dir, PlanFile))
	assert.NoError(t, err)
}

func TestSlowGeneratorCountedLate(t *testing.T) {
	target, _ := server(t, ok)
	s, src := fixture(t, plan.Recorded,
		ex{id: 1, session: "a", path: "/a", startMs: 0, endMs: 1},
		ex{id: 2, session: "b", path: "/b", startMs: 1, endMs: 2},
	)
	r, err := New(s, src, target)
	require.NoError(t, err)
	r.beforeSend = func(node int) {
		if node == 1 {
			time.Sleep(120 * time.Millisecond) // the generator itself is slow, not a sync point
		}
	}
	sum, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Requests.Sent)
	assert.Equal(t, 1, sum.Requests.Late)
	assert.False(t, sum.Valid)
	assert.Contains(t, sum.Reason, "generator lag p99")
	assert.Greater(t, sum.Lag.Max, 100.0)
}

// TestSlowSendDoesNotHoldUpDispatching: the worker that woke for a request
// sends it itself, so it must hand the dispatcher's role on before it does:
// a request held up on its way out (here until the next one arrives) does
// not hold up the next one.
func TestSlowSendDoesNotHoldUpDispatching(t *testing.T) {
	second := make(chan struct{})
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b" {
			close(second)
		}
		ok(w, r)
	})
	s, src := fixture(t, plan.Recorded,
		ex{id: 1, session: "a", path: "/a", startMs: 0, endMs: 1},
		ex{id: 2, session: "b", path: "/b", startMs: 1, endMs: 2},
	)
	r, err := New(s, src, target)
	require.NoError(t, err)
	var overtaken bool
	r.beforeSend = func(node int) {
		if node != 0 {
			return
		}
		select {
		case <-second:
			overtaken = true
		case <-time.After(10 * time.Second): // dispatching waited for this send
		}
	}
	sum, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, overtaken, "the second request waited for the first's send")
	assert.Equal(t, 2, sum.Requests.Sent)
}

func TestCancelDropsUnsent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			cancel() // the run ends while the second request is still minutes away
		}
		ok(w, r)
	})
	s, src := fixture(t, plan.Recorded,
		ex{id: 1, session: "a", path: "/first", startMs: 0, endMs: 1},
		ex{id: 2, session: "b", path: "/later", startMs: 600_000, endMs: 600_001},
		ex{id: 3, session: "c", path: "/later", startMs: 600_000, endMs: 600_001},
	)
	dir := t.TempDir()
	r, err := New(s, src, target, OutDir(dir))
	require.NoError(t, err)
	r.beforeSend = func(int) {
		// As on a loaded machine: the one request sent goes out late
		// enough to break the lag rule, which the Reason names first.
		time.Sleep(2 * MaxLagP99) // the generator itself is slow, not a sync point
	}
	sum, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Requests.Dropped)
	assert.False(t, sum.Valid)
	// The drops alone make the run invalid, whatever the generator lag.
	_, reason := Validity(0, sum.Requests)
	assert.Contains(t, reason, "2 of 3 requests (66.67%) dropped")
	res := resultsByID(t, dir)
	require.Len(t, res, 3, "dropped requests still get a Result")
	assert.True(t, res[2].GetDropped())
	assert.True(t, res[3].GetDropped())
	assert.False(t, res[1].GetDropped())
}

const recTok = "rpr-redacted-5094d910adf803221e294311"

func TestSubstitutesLiveValues(t *testing.T) {
	const liveTok, liveOrder = "live-token-42abcdef", "ord-live-987654"
	var bad atomic.Int32
	target, sn := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/login":
			_, _ = w.Write([]byte(`{"token":"` + liveTok + `","n":1}`))
		case r.URL.Path == "/v1/orders" && r.Method == "POST":
			if r.Header.Get("Authorization") != "Bearer "+liveTok {
				bad.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Location", "/v1/orders/"+liveOrder)
			_, _ = w.Write([]byte(`{"order":{"id":"` + liveOrder + `"}}`))
		case r.URL.Path == "/v1/orders/"+liveOrder:
			if r.Header.Get("Authorization") != "Bearer "+liveTok || r.URL.Query().Get("ref") != liveOrder {
				bad.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			ok(w, r)
		default:
			bad.Add(1)
			http.NotFound(w, r)
		}
	})
	s, src := fixture(t, plan.Causal,
		ex{id: 1, session: "u", conn: 1, method: "POST", path: "/v1/login", startMs: 0, endMs: 5,
			respBody: `{"token":"` + recTok + `","n":1}`},
		ex{id: 2, session: "u", conn: 1, method: "POST", path: "/v1/orders", startMs: 10, endMs: 15,
			reqHeaders:  [][2]string{{"Authorization", "Bearer " + recTok}},
			respHeaders: [][2]string{{"Location", "/v1/orders/ord-rec-123456"}},
			respBody:    `{"order":{"id":"ord-rec-123456"}}`},
		ex{id: 3, session: "u", conn: 1, path: "/v1/orders/ord-rec-123456", query: "ref=ord-rec-123456", startMs: 20, endMs: 25,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + recTok}}},
	)
	require.NotEmpty(t, s.Plan().Correlations)
	sum, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Zero(t, bad.Load(), "every request carried live values")
	assert.Len(t, sn.all(), 3)
	assert.Equal(t, len(s.Plan().Correlations), sum.Correlations.Found)
	assert.GreaterOrEqual(t, sum.Correlations.Applied, 3, "bearer twice, path and query")
	assert.Zero(t, sum.Correlations.Unresolved)
	assert.Zero(t, sum.Errors.Total())
}

func TestUnresolvedFlagged(t *testing.T) {
	target, sn := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/login" {
			w.WriteHeader(http.StatusServiceUnavailable) // no token issued
			return
		}
		ok(w, r)
	})
	dir := t.TempDir()
	s, src := fixture(t, plan.Causal,
		ex{id: 1, session: "u", path: "/v1/login", startMs: 0, endMs: 5, respBody: `{"token":"` + recTok + `"}`},
		ex{id: 2, session: "u", path: "/v1/me", startMs: 10, endMs: 15,
			reqHeaders: [][2]string{{"Authorization", "Bearer " + recTok}}},
	)
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Correlations.Unresolved)
	assert.Equal(t, 1, sum.Errors.Status5xx)
	res := resultsByID(t, dir)
	require.Len(t, res[2].GetUnresolved(), 1)
	assert.Contains(t, res[2].GetUnresolved()[0], "header:Authorization")
	assert.NotContains(t, res[2].GetUnresolved()[0], recTok, "the value itself is never written")
	assert.True(t, res[1].GetDiff().GetStatusClassChanged())
	reqs := sn.all()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer "+recTok, reqs[1].Header.Get("Authorization"), "sent with the recorded value")
}

func TestConnectionsReusedPerRecordedConnection(t *testing.T) {
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	var exs []ex
	for c := range 2 {
		for k := range 3 {
			id := uint64(c*3 + k + 1)
			exs = append(exs, ex{id: id, session: "s" + string(rune('a'+c)), conn: uint64(c + 1), path: "/x",
				startMs: int64(k * 10), endMs: int64(k*10 + 2)})
		}
	}
	s, src := fixture(t, plan.ASAP, exs...)
	sum, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Equal(t, 6, sum.Requests.Sent)
	assert.Equal(t, int32(2), newConns.Load(), "one TCP connection per recorded connection")
}

func TestH2CPriorKnowledge(t *testing.T) {
	var protos atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			protos.Add(1)
		}
		ok(w, r)
	}))
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	s, src := fixture(t, plan.ASAP,
		ex{id: 1, session: "a", conn: 1, proto: rprpb.Protocol_PROTOCOL_H2C, path: "/h2", startMs: 0, endMs: 1},
		ex{id: 2, session: "a", conn: 2, path: "/h1", startMs: 0, endMs: 1},
	)
	sum, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Requests.Sent)
	assert.Equal(t, int32(1), protos.Load(), "only the h2c exchange used HTTP/2")
}

func TestUnsupportedProtocolReported(t *testing.T) {
	target, sn := server(t, ok)
	s, src := fixture(t, plan.ASAP,
		// A protocol no registered driver replays.
		ex{id: 1, session: "a", proto: rprpb.Protocol(42), path: "/ws", startMs: 0, endMs: 1},
		ex{id: 2, session: "a", path: "/after", startMs: 2, endMs: 3},
	)
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Requests.Unsupported)
	assert.Equal(t, 1, sum.Requests.Sent, "its successor still runs")
	assert.Len(t, sn.all(), 1)
	res := resultsByID(t, dir)
	assert.Equal(t, ErrUnsupported.Error(), res[1].GetError())
}

func TestTransportErrorsCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	target := &url.URL{Scheme: "http", Host: addr}
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "a", path: "/", startMs: 0, endMs: 1})
	sum, err := Run(context.Background(), s, src, target)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Errors.Transport)
	assert.Equal(t, 1, sum.Routes[0].Errors)
}

func TestNewRejectsBadInput(t *testing.T) {
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "a", path: "/", startMs: 0, endMs: 1})
	_, err := New(s, src, &url.URL{Scheme: "ftp", Host: "x"})
	require.ErrorIs(t, err, ErrBadOption)
	_, err = New(s, Exchanges{}, &url.URL{Scheme: "http", Host: "127.0.0.1:1"})
	require.ErrorIs(t, err, ErrMissingExchange)
	_, err = New(s, src, &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, Timeout(0))
	require.ErrorIs(t, err, ErrBadOption)
}

func TestH2OverTLSNegotiatesHTTP2(t *testing.T) {
	var protos atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			protos.Add(1)
		}
		ok(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	require.NoError(t, err)
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	s, src := fixture(t, plan.ASAP,
		ex{id: 1, session: "a", conn: 1, proto: rprpb.Protocol_PROTOCOL_H2, path: "/h2", startMs: 0, endMs: 1},
		ex{id: 2, session: "a", conn: 2, path: "/h1", startMs: 0, endMs: 1},
	)
	sum, err := Run(context.Background(), s, src, target, TLS(tlsConf))
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Requests.Sent)
	assert.Zero(t, sum.Errors.Total())
	assert.Equal(t, int32(1), protos.Load(), "ALPN chose h2 only for the recorded HTTP/2 exchange")
}

// countingAlarm counts how often the dispatcher arms its alarm.
type countingAlarm struct {
	alarm
	resets atomic.Int64
}

func (a *countingAlarm) Reset(d time.Duration) {
	a.resets.Add(1)
	a.alarm.Reset(d)
}

// TestDispatcherArmsOncePerTime: a completion that releases nothing (every
// one in recorded mode) does not wake the dispatcher into arming its alarm
// again for the time it is already set for; each arming is a syscall, and
// there used to be one per request more than needed.
func TestDispatcherArmsOncePerTime(t *testing.T) {
	target, _ := server(t, ok)
	const n = 60
	var exs []ex
	for i := range n {
		exs = append(exs, ex{id: uint64(i + 1), session: "s" + strconv.Itoa(i%4), path: "/p",
			startMs: int64(2 * i), endMs: int64(2*i + 1)})
	}
	s, src := fixture(t, plan.Recorded, exs...)
	r, err := New(s, src, target)
	require.NoError(t, err)
	al := &countingAlarm{}
	r.newAlarm = func() alarm { al.alarm = newAlarm(); return al }
	sum, err := r.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, n, sum.Requests.Sent)
	// One arming per planned time at most; a ring that was already on its
	// way may cost one more now and then.
	assert.LessOrEqual(t, al.resets.Load(), int64(n+n/4), "alarm armed %d times for %d requests", al.resets.Load(), n)
}

// TestFirstRequestDoesNotWaitForTheResultsWriter: the results writer (its
// compressor, the header with the clock's anchor) is made after the clock
// starts, off the dispatch path: the first request goes out while it is
// being made, and its result still reaches results.rpr.
func TestFirstRequestDoesNotWaitForTheResultsWriter(t *testing.T) {
	arrived := make(chan struct{})
	var once sync.Once
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		ok(w, r)
	})
	s, src := fixture(t, plan.Recorded, ex{id: 1, session: "a", path: "/first", startMs: 0, endMs: 1})
	dir := t.TempDir()
	r, err := New(s, src, target, OutDir(dir))
	require.NoError(t, err)
	made := r.newResults
	var sentFirst bool
	r.newResults = func(f *os.File, h *rprpb.FileHeader) (*recording.Writer, error) {
		select {
		case <-arrived:
			sentFirst = true
		case <-time.After(10 * time.Second): // the old order: the request waits for this writer
		}
		return made(f, h)
	}
	sum, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, sentFirst, "the first request waited for the results writer")
	assert.Equal(t, 1, sum.Requests.Sent)
	res := resultsByID(t, dir)
	require.Contains(t, res, uint64(1))
	assert.Positive(t, res[1].GetSentNs())
}

// TestClockStartsAfterTheRunIsSetUp: the run's state (the requests due at
// once, sorted, in a heap: at a million nodes in recorded mode, tens of
// milliseconds) is made before the clock starts, so that making it does
// not show as every early request's generator lag.
func TestClockStartsAfterTheRunIsSetUp(t *testing.T) {
	target, _ := server(t, ok)
	s, src := fixture(t, plan.Recorded,
		ex{id: 1, session: "a", path: "/a", startMs: 0, endMs: 1},
		ex{id: 2, session: "b", path: "/b", startMs: 1, endMs: 2})
	r, err := New(s, src, target)
	require.NoError(t, err)
	made := r.newRun
	var setUp time.Time
	r.newRun = func() (*plan.Run, []plan.Due) {
		run, due := made()
		setUp = time.Now()
		return run, due
	}
	sum, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Requests.Sent)
	require.False(t, setUp.IsZero(), "the run was not set up through newRun")
	assert.False(t, r.t0.Before(setUp), "the clock started %v before the run's state was made", setUp.Sub(r.t0))
}

// An answer cut short after its status (the connection closed mid-body)
// is a failed exchange, counted with the transport errors, not a 200.
func TestAnAnswerCutShortIsATransportError(t *testing.T) {
	target, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("only ten.."))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	s, src := fixture(t, plan.ASAP, ex{id: 1, session: "u", path: "/v1/big", startMs: 0, endMs: 5, respBody: `{}`})
	dir := t.TempDir()
	sum, err := Run(context.Background(), s, src, target, OutDir(dir))
	require.NoError(t, err)
	assert.Equal(t, 1, sum.Errors.Transport)
	rs := readResults(t, dir)
	require.Len(t, rs, 1)
	assert.True(t, rs[0].GetFailed())
	assert.Equal(t, int32(http.StatusOK), rs[0].GetStatus(), "the status that came is kept")
	assert.Contains(t, rs[0].GetError(), "read body")
}
