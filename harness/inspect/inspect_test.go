package inspect_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/inspect"
	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

const ms = int64(time.Millisecond)

type ex = rprpb.Exchange

func rec(e *ex) *rprpb.Record { return &rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: e}} }

func httpEx(id uint64, method, path string, status int32, startMs, endMs int64) *ex {
	return &ex{
		Id: id, Protocol: rprpb.Protocol_PROTOCOL_HTTP1, StartNs: startMs * ms, EndNs: endMs * ms,
		Request:  &rprpb.Request{Method: method, Path: path},
		Response: &rprpb.Response{Status: status},
	}
}

func TestAddFigures(t *testing.T) {
	s := inspect.New(inspect.Top(3))
	// Written in completion order, not start order, as the proxy does.
	e1 := httpEx(1, "GET", "/v1/items/123", 200, 100, 900)
	e1.Session = "alice"
	e2 := httpEx(2, "POST", "/v1/items/123/buy", 200, 200, 300)
	e2.Session = "bob"
	e2.Request.Body = &rprpb.Body{Data: make([]byte, 10), Size: 5000, Truncated: true}
	e3 := httpEx(3, "POST", "/v1/items/123/buy", 500, 250, 400)
	e3.Session = "alice"
	e3.Response.Body = &rprpb.Body{Data: make([]byte, 64), Size: 64}
	e4 := httpEx(4, "GET", "/v1/items/456", 404, 1500, 1600)
	e5 := &ex{
		Id: 5, Protocol: rprpb.Protocol_PROTOCOL_GRPC, StartNs: 2100 * ms, EndNs: 2200 * ms,
		Request: &rprpb.Request{Method: "POST", Path: "/shop.v1.Shop/Buy"},
		Grpc: &rprpb.Grpc{FullMethod: "/shop.v1.Shop/Buy", StatusCode: 5, Messages: []*rprpb.Message{
			{Direction: rprpb.Direction_DIRECTION_REQUEST, Size: 700},
			{Direction: rprpb.Direction_DIRECTION_RESPONSE, Size: 30},
		}},
		Error: "upstream: connection reset",
	}
	for _, e := range []*ex{e2, e3, e1, e5, e4} {
		s.Add(rec(e))
	}
	s.Add(&rprpb.Record{}) // a kind this build does not know
	r := s.Report()

	assert.EqualValues(t, 6, r.Records)
	assert.EqualValues(t, 5, r.Exchanges)
	assert.EqualValues(t, 1, r.OtherRecords)
	assert.EqualValues(t, 2, r.Sessions)
	assert.EqualValues(t, 2, r.WithoutSession)
	assert.InDelta(t, 2.1, r.DurationSeconds, 1e-9, "first start 0.1 s to last end 2.2 s")
	assert.Equal(t, []inspect.Count{{"http1", 4}, {"grpc", 1}}, r.Protocols)
	assert.Equal(t, []inspect.Count{{"POST", 3}, {"GET", 2}}, r.Methods)
	assert.Equal(t, []inspect.Count{{"200", 2}, {"404", 1}, {"500", 1}, {"none", 1}}, r.Statuses)
	assert.Equal(t, []inspect.Count{{"NotFound", 1}}, r.GRPCStatuses)

	require.Len(t, r.Routes, 3)
	assert.Equal(t, 3, r.DistinctRoutes)
	// Equal counts rank by route name.
	assert.Equal(t, inspect.RouteStat{Method: "GET", Route: "/v1/items/{id}", Count: 2, Status4xx: 1, MeanMs: 450, MaxMs: 800}, r.Routes[0])
	assert.Equal(t, inspect.RouteStat{Method: "POST", Route: "/v1/items/{id}/buy", Count: 2, Status5xx: 1, MeanMs: 125, MaxMs: 150}, r.Routes[1])
	assert.Equal(t, "/shop.v1.Shop/Buy", r.Routes[2].Route, "gRPC methods are their own route")
	assert.EqualValues(t, 1, r.Routes[2].Errors)

	assert.Equal(t, 2, r.Entities.Distinct)
	assert.Equal(t, []inspect.EntityStat{
		{Key: "items/123", Count: 3, Peak: 3, PeakAtSeconds: 0.25},
		{Key: "items/456", Count: 1, Peak: 1, PeakAtSeconds: 1.5},
	}, r.Entities.ByCount)
	assert.Equal(t, r.Entities.ByCount[:1], r.Entities.ByPeak, "an entity never overlapped is no race candidate")

	assert.Equal(t, []inspect.Body{
		{Exchange: 2, Method: "POST", Route: "/v1/items/{id}/buy", Size: 5000, Captured: 10, Truncated: true},
		{Exchange: 5, Method: "POST", Route: "/shop.v1.Shop/Buy", Size: 700},
	}, r.LargestRequests)
	assert.Equal(t, []uint64{3, 5}, []uint64{r.LargestResponses[0].Exchange, r.LargestResponses[1].Exchange})
	assert.EqualValues(t, 5700, r.RequestBytes)
	assert.EqualValues(t, 94, r.ResponseBytes)

	assert.Equal(t, inspect.Errors{Count: 1, Messages: []inspect.ErrorMessage{{Message: "upstream: connection reset", Count: 1, FirstExchange: 5}}}, r.Errors)
	assert.True(t, r.Complete)

	// Starts fall in seconds 0, 1 and 2.
	assert.Equal(t, []float64{3, 1, 1}, r.Rate.Points)
	assert.EqualValues(t, 1, r.Rate.BucketSeconds)
	assert.Zero(t, r.Rate.FirstSecond)
	assert.Equal(t, 1.0, r.Rate.Min)
	assert.Equal(t, 3.0, r.Rate.Max)
	assert.InDelta(t, 5.0/3, r.Rate.Mean, 0.001)
}

func TestAddAfterCloseIsIgnored(t *testing.T) {
	s := inspect.New()
	s.Add(rec(httpEx(1, "GET", "/a", 200, 0, 1)))
	s.Close()
	s.Add(rec(httpEx(2, "GET", "/a", 200, 0, 1)))
	s.Close()
	assert.EqualValues(t, 1, s.Report().Exchanges)
}

func TestEmptyReportRenders(t *testing.T) {
	r := inspect.New().Report()
	var text, js bytes.Buffer
	require.NoError(t, inspect.WriteText(&text, &r))
	require.NoError(t, inspect.WriteJSON(&js, &r))
	assert.Contains(t, text.String(), "Records:")
	assert.Contains(t, js.String(), `"points": []`)
}

func TestRateCurveDownsamplesLongRecordings(t *testing.T) {
	s := inspect.New()
	// Two hours; each second s has s%5 starts, and second 3600 a burst of 50.
	var total int64
	id := uint64(0)
	for sec := int64(0); sec < 7200; sec++ {
		n := sec % 5
		if sec == 3600 {
			n = 50
		}
		for range n {
			id++
			s.Add(rec(httpEx(id, "GET", "/a", 200, sec*1000+1, sec*1000+2)))
		}
		total += n
	}
	r := s.Report().Rate
	assert.LessOrEqual(t, len(r.Points), inspect.DefaultMaxPoints)
	assert.EqualValues(t, 12, r.BucketSeconds, "7,199 s span in 600 buckets")
	var sum float64
	for _, p := range r.Points {
		sum += p * float64(r.BucketSeconds)
	}
	// Points are mean rates rounded to 3 decimals, so they integrate back
	// to the total within the rounding.
	assert.InDelta(t, float64(total), sum, 0.0005*12*float64(len(r.Points)))
	assert.Equal(t, 50.0, r.Max, "the peak second survives downsampling")
	assert.Equal(t, 0.0, r.Min)
	assert.InDelta(t, float64(total)/7199, r.Mean, 0.001)
}

func TestRateCurveCountsEmptySeconds(t *testing.T) {
	s := inspect.New()
	s.Add(rec(httpEx(1, "GET", "/a", 200, 10_000, 10_001)))
	s.Add(rec(httpEx(2, "GET", "/a", 200, 13_500, 13_501)))
	r := s.Report().Rate
	assert.Equal(t, []float64{1, 0, 0, 1}, r.Points)
	assert.EqualValues(t, 10, r.FirstSecond)
	assert.Equal(t, 0.0, r.Min)
	assert.Equal(t, 0.5, r.Mean)
}

func TestPeakConcurrencyMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		s := inspect.New()
		n := 1 + rng.IntN(40)
		type span struct{ s, e int64 }
		spans := make([]span, n)
		for i := range spans {
			st := rng.Int64N(100)
			spans[i] = span{st, st + rng.Int64N(30)} // some zero-length
			s.Add(rec(httpEx(uint64(i), "GET", "/items/7", 200, spans[i].s, spans[i].e)))
		}
		wantPeak, wantAt := 0, int64(0)
		for _, c := range spans {
			inFlight := 0
			for _, o := range spans {
				end := max(o.e, o.s+1) // zero length: in flight for an instant
				if o.s <= c.s && c.s < end {
					inFlight++
				}
			}
			if inFlight > wantPeak || (inFlight == wantPeak && c.s < wantAt) {
				wantPeak, wantAt = inFlight, c.s
			}
		}
		got := s.Report().Entities.ByCount[0]
		require.Equal(t, wantPeak, got.Peak, "trial %d", trial)
		require.InDelta(t, float64(wantAt)/1000, got.PeakAtSeconds, 1e-9, "trial %d", trial)
	}
}

func TestBackToBackExchangesDoNotOverlap(t *testing.T) {
	s := inspect.New()
	s.Add(rec(httpEx(1, "GET", "/items/7", 200, 0, 10)))
	s.Add(rec(httpEx(2, "GET", "/items/7", 200, 10, 20)))
	s.Add(rec(httpEx(3, "GET", "/users/7/friends/7", 200, 0, 20)))
	r := s.Report()
	assert.Empty(t, r.Entities.ByPeak)
	assert.Equal(t, []inspect.EntityStat{
		{Key: "items/7", Count: 2, Peak: 1},
		{Key: "friends/7", Count: 1, Peak: 1},
		{Key: "users/7", Count: 1, Peak: 1},
	}, r.Entities.ByCount)
}

func TestDistinctRoutesAreBounded(t *testing.T) {
	s := inspect.New(inspect.MaxDistinct(3), inspect.Top(10))
	for i := range 10 {
		e := httpEx(uint64(i), "GET", fmt.Sprintf("/word%c", 'a'+i), 200, 0, 1)
		e.Error = fmt.Sprintf("boom %c", 'a'+i)
		s.Add(rec(e))
	}
	r := s.Report()
	assert.Equal(t, 4, r.DistinctRoutes, "three routes and the overflow")
	assert.Equal(t, inspect.RouteStat{Route: inspect.OtherRoutes, Count: 7, Errors: 7, MeanMs: 1, MaxMs: 1}, r.Routes[0])
	assert.Len(t, r.Errors.Messages, 3)
	assert.EqualValues(t, 7, r.Errors.Untracked)
	assert.EqualValues(t, 10, r.Errors.Count)
}

// writeFile writes n small exchanges in blocks of about four records.
func writeFile(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := recording.NewWriter(&buf, &rprpb.FileHeader{Recorder: "test"}, recording.BlockSize(512))
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, w.Write(rec(httpEx(uint64(i), "GET", fmt.Sprintf("/v1/items/%d", i%7), 200, int64(i), int64(i)+5))))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func readStats(t testing.TB, data []byte) inspect.Report {
	t.Helper()
	r, err := recording.NewReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer r.Close()
	s := inspect.New(inspect.Header(r.Header()))
	require.NoError(t, s.Read(context.Background(), r))
	return s.Report()
}

func TestReadCompleteFile(t *testing.T) {
	r := readStats(t, writeFile(t, 100))
	assert.True(t, r.Complete)
	assert.Empty(t, r.Damage)
	assert.EqualValues(t, 100, r.Exchanges)
	assert.Equal(t, "test", r.Recorder)
}

func TestReadSalvagesTruncatedFile(t *testing.T) {
	data := writeFile(t, 100)
	cut := data[:len(data)*2/3]
	r := readStats(t, cut)
	assert.False(t, r.Complete)
	require.Len(t, r.Damage, 1)
	d := r.Damage[0]
	assert.True(t, d.Truncated)
	assert.Positive(t, d.Offset)
	assert.Less(t, d.Offset, int64(len(cut)))
	assert.Equal(t, d.Records, r.Exchanges, "everything before the damage was read")
	assert.Greater(t, r.Exchanges, int64(30))
	assert.Less(t, r.Exchanges, int64(100))
}

func TestReadSkipsCorruptBlock(t *testing.T) {
	data := bytes.Clone(writeFile(t, 100))
	data[len(data)/2] ^= 0xff
	r := readStats(t, data)
	assert.False(t, r.Complete)
	require.NotEmpty(t, r.Damage)
	assert.False(t, r.Damage[0].Truncated)
	assert.Greater(t, r.Exchanges, int64(80), "blocks after the damage are still read")
	assert.Less(t, r.Exchanges, int64(100))
}

func TestReadStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := recording.NewReader(bytes.NewReader(writeFile(t, 10)))
	require.NoError(t, err)
	defer r.Close()
	require.ErrorIs(t, inspect.New().Read(ctx, r), context.Canceled)
}

func TestBodiesAreNotRetained(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 128 MiB")
	}
	s := inspect.New()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 128 {
		e := httpEx(uint64(i), "POST", fmt.Sprintf("/v1/items/%d", i), 200, int64(i), int64(i)+1)
		e.Request.Body = &rprpb.Body{Data: make([]byte, 1<<20), Size: 1 << 20}
		e.Response.Body = &rprpb.Body{Data: make([]byte, 1<<10), Size: 1 << 10}
		s.Add(rec(e))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	assert.Less(t, grown, int64(8<<20), "128 MiB of bodies went through; live heap grew by %d bytes", grown)
	assert.EqualValues(t, 128<<20, s.Report().RequestBytes)
}
