package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

// The profiler replays the whole recording through the library, reports
// every phase in order, and writes its profiles and the run's trace.
func TestPhasesAndProfiles(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.rpr")
	w, err := recording.Create(rec, &rprpb.FileHeader{Recorder: "test"})
	require.NoError(t, err)
	for i := range 20 {
		ex := &rprpb.Exchange{Id: uint64(i + 1), Session: "s" + strconv.Itoa(i%2), ConnectionId: uint64(i%2 + 1),
			Protocol: rprpb.Protocol_PROTOCOL_HTTP1, StartNs: int64(i) * 1e6, EndNs: int64(i)*1e6 + 1e5,
			Request: &rprpb.Request{Method: "GET", Path: "/x"}, Response: &rprpb.Response{Status: 200}}
		require.NoError(t, w.Write(&rprpb.Record{Kind: &rprpb.Record_Exchange{Exchange: ex}}))
	}
	require.NoError(t, w.Close())

	phases := func(o options) []string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), o, &out))
		var got struct {
			Phases []phase `json:"phases"`
			Sent   int     `json:"sent"`
			Errors int     `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
		assert.Equal(t, 20, got.Sent)
		assert.Zero(t, got.Errors)
		var names []string
		for _, p := range got.Phases {
			names = append(names, p.Name)
		}
		return names
	}

	// As reprise replay plans: two passes.
	o := options{rec: rec, target: srv.URL, timing: "asap", speed: 1,
		cpuProfile: filepath.Join(dir, "cpu.prof"), heapProfile: filepath.Join(dir, "heap.prof"),
		tracePath: filepath.Join(dir, "run.trace")}
	assert.Equal(t, []string{"plan.BuildTwoPass", "plan.Schedule", "replay.LoadExchanges", "replay.Run"}, phases(o))
	assert.Equal(t, int64(20), hits.Load())

	// One pass through the public Builder, whose state can be profiled.
	o.onePass, o.buildHeapProfile = true, filepath.Join(dir, "build.prof")
	assert.Equal(t, []string{"plan.Builder.Add (all)", "plan.Builder.Plan", "plan.Schedule", "replay.LoadExchanges", "replay.Run"}, phases(o))
	assert.Equal(t, int64(40), hits.Load())
	for _, f := range []string{o.cpuProfile, o.heapProfile, o.buildHeapProfile, o.tracePath} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Positive(t, st.Size())
	}

	o.onePass = false
	require.ErrorContains(t, run(context.Background(), o, &bytes.Buffer{}), "-buildheapprofile needs -onepass")
}

func TestMissingFlags(t *testing.T) {
	require.ErrorContains(t, run(context.Background(), options{timing: "asap"}, &bytes.Buffer{}), "-rec and -target")
	require.ErrorContains(t, run(context.Background(), options{rec: "x", target: "http://127.0.0.1:1", timing: "nope"}, &bytes.Buffer{}), "nope")
}
