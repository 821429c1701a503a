package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// vegetaCSV renders hits the way `vegeta encode --to csv` does.
func vegetaCSV(began int64, interval int64, lags []int64, code int) string {
	var b strings.Builder
	for k, lag := range lags {
		ts := began + int64(k+1)*interval + lag
		fmt.Fprintf(&b, "%d,%d,%d,0,1011,,,,%d,GET,http://127.0.0.1:1/x,\n", ts, code, 300_000, k)
	}
	return b.String()
}

func decode(t *testing.T, out *bytes.Buffer) Stats {
	t.Helper()
	var st Stats
	require.NoError(t, json.Unmarshal(out.Bytes(), &st), out.String())
	return st
}

// A vegeta attack at 1000/s whose hits are on time except one in a hundred,
// 5 ms late: the reconstruction recovers p50 = 0 and p99 = 5 ms exactly,
// because the first hit is on time and anchors the pacer's start.
func TestVegetaLagFromPacer(t *testing.T) {
	lags := make([]int64, 1000)
	for k := range lags {
		if k%100 == 99 {
			lags[k] = 5_000_000
		}
	}
	lags[500] = 9_000_000
	var out bytes.Buffer
	in := vegetaCSV(1_700_000_000_000_000_000, 1_000_000, lags, 200)
	require.NoError(t, run("", "-", 1000, strings.NewReader(in), &out))
	st := decode(t, &out)
	assert.Equal(t, 1000, st.Requests)
	assert.Equal(t, 1000, st.OK)
	assert.Equal(t, 0.0, st.LagP50)
	assert.Equal(t, 5.0, st.LagP99)
	assert.Equal(t, 9.0, st.LagMax)
	assert.Contains(t, st.LagMethod, "lower bound")
	// First hit at +1 ms; the last is due at +1000 ms, 5 ms late, and
	// takes 0.3 ms: 1004.3 ms from first send to last completion.
	assert.InDelta(t, 1.0043, st.Duration, 1e-9)
	assert.InDelta(t, 1000/1.0043, st.Rate, 1e-6)
}

// When every hit is late by at least 2 ms the anchor absorbs the common
// part: the method is a lower bound, and says so; the spread survives.
func TestVegetaLagIsALowerBound(t *testing.T) {
	lags := make([]int64, 200)
	for k := range lags {
		lags[k] = 2_000_000 + int64(k%2)*1_000_000
	}
	var out bytes.Buffer
	require.NoError(t, run("", "-", 1000, strings.NewReader(vegetaCSV(0, 1_000_000, lags, 200)), &out))
	st := decode(t, &out)
	assert.Equal(t, 0.0, st.LagP50)
	assert.Equal(t, 1.0, st.LagP99)
}

// Max-rate runs (-rate 0) have no schedule: no lag, only counts and rate;
// non-2xx answers and transport errors are not counted as OK.
func TestVegetaMaxRateCountsOnlySuccesses(t *testing.T) {
	in := vegetaCSV(0, 1_000_000, make([]int64, 10), 200) + vegetaCSV(0, 1_000_000, make([]int64, 5), 503) +
		"2000000,0,100,0,0,connection refused,,,99,GET,http://127.0.0.1:1/x,\n"
	var out bytes.Buffer
	require.NoError(t, run("", "-", 0, strings.NewReader(in), &out))
	st := decode(t, &out)
	assert.Equal(t, 16, st.Requests)
	assert.Equal(t, 10, st.OK)
	assert.Equal(t, 6, st.Errors)
	assert.Empty(t, st.LagMethod)
	assert.Zero(t, st.LagP99)
}

func TestVegetaBadInputNamesTheLine(t *testing.T) {
	var out bytes.Buffer
	err := run("", "-", 1000, strings.NewReader("1,200,3,0,0,,,,0,GET,u,\nnot-a-time,200,3,0,0,,,,1,GET,u,\n"), &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-:2:")
	err = run("", "-", 1000, strings.NewReader("1,200,3\n"), &out)
	require.ErrorContains(t, err, "3 fields")
	require.ErrorContains(t, run("", "-", 1000, strings.NewReader(""), &out), "no results")
	require.ErrorContains(t, run("", "", 0, nil, &out), "exactly one")
	require.ErrorContains(t, run("a", "b", 0, nil, &out), "exactly one")
}

// results.rpr: lag is sent − intended per request; dropped requests are
// not samples; errors and non-2xx are not OK.
func TestResultsLag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.rpr")
	w, err := recording.Create(path, &rprpb.FileHeader{Recorder: "test"})
	require.NoError(t, err)
	write := func(r *rprpb.Result) {
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Result{Result: r}}))
	}
	for i := range 100 {
		lag := int64(100_000) // 0.1 ms
		if i == 42 {
			lag = 7_000_000
		}
		at := int64(i) * 1_000_000
		write(&rprpb.Result{ExchangeId: uint64(i + 1), IntendedNs: at, SentNs: at + lag, DoneNs: at + lag + 500_000, Status: 200})
	}
	write(&rprpb.Result{ExchangeId: 101, IntendedNs: 1, SentNs: 2, DoneNs: 3, Status: 500})
	write(&rprpb.Result{ExchangeId: 102, IntendedNs: 1, SentNs: 2, DoneNs: 3, Error: "connection refused"})
	write(&rprpb.Result{ExchangeId: 103, IntendedNs: 1, Dropped: true})
	require.NoError(t, w.Close())

	var out bytes.Buffer
	require.NoError(t, run(path, "", 0, nil, &out))
	st := decode(t, &out)
	assert.Equal(t, 102, st.Requests)
	assert.Equal(t, 100, st.OK)
	assert.Equal(t, 2, st.Errors)
	assert.Equal(t, 0.1, st.LagP50)
	assert.Equal(t, 0.1, st.LagP99) // one in 102 is above the 99th rank
	assert.Equal(t, 7.0, st.LagMax)
	assert.Contains(t, st.LagMethod, "sent - intended")
}

func TestResultsMissingFile(t *testing.T) {
	var out bytes.Buffer
	require.Error(t, run(filepath.Join(t.TempDir(), "nope.rpr"), "", 0, nil, &out))
}
