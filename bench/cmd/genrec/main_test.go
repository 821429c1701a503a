package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/harness/replay/plan"
)

func readAll(t *testing.T, path string) []*rprpb.Exchange {
	t.Helper()
	rd, err := recording.Open(path)
	require.NoError(t, err)
	defer rd.Close()
	var exs []*rprpb.Exchange
	for rec, err := range rd.All() {
		require.NoError(t, err)
		exs = append(exs, rec.GetExchange())
	}
	require.True(t, rd.Complete())
	return exs
}

// The recording has the shape the benchmark relies on: every session is a
// chain (the planner puts an order edge between consecutive requests), the
// planner finds no correlations, recorded starts are spaced at -rate, and
// asap mode therefore runs exactly -sessions requests at a time.
func TestRecordingShape(t *testing.T) {
	const n, slots = 2000, 8
	c := config{out: filepath.Join(t.TempDir(), "r.rpr"), n: n, slots: slots, rate: 500, service: time.Millisecond}
	var log bytes.Buffer
	require.NoError(t, run(c, &log))
	assert.Contains(t, log.String(), "2000 exchanges")

	exs := readAll(t, c.out)
	require.Len(t, exs, n)
	assert.Equal(t, int64(2*time.Millisecond), exs[1].GetStartNs()-exs[0].GetStartNs())
	assert.Equal(t, int64((n-1)*2*time.Millisecond), exs[n-1].GetStartNs()-exs[0].GetStartNs())
	assert.Greater(t, len(exs[0].GetResponse().GetBody().GetData()), 900, "~1 KiB response bodies")

	p, err := plan.Build(exs)
	require.NoError(t, err)
	st := p.Stats()
	assert.Equal(t, slots, st.Sessions)
	assert.Zero(t, st.Correlations)
	assert.Equal(t, n-slots, st.Edges.Order, "each session is one chain")
	s, err := p.Schedule(plan.ASAP)
	require.NoError(t, err)
	assert.Equal(t, slots, s.Stats().PeakConcurrency)
}

// With -session-len, a slot starts a new session (and connection) every
// few requests: more sessions, same concurrency in recorded time.
func TestSessionRotation(t *testing.T) {
	c := config{out: filepath.Join(t.TempDir(), "r.rpr"), n: 100, slots: 4, sessionLen: 5, rate: 1000, service: time.Millisecond}
	require.NoError(t, run(c, &bytes.Buffer{}))
	sessions := map[string]uint64{}
	for _, ex := range readAll(t, c.out) {
		if conn, ok := sessions[ex.GetSession()]; ok {
			assert.Equal(t, conn, ex.GetConnectionId(), "one connection per session")
		}
		sessions[ex.GetSession()] = ex.GetConnectionId()
	}
	assert.Len(t, sessions, 100/5)
}

// The vegeta targets are the recording's first requests, headers
// included, in vegeta's http format.
func TestVegetaTargets(t *testing.T) {
	dir := t.TempDir()
	c := config{out: filepath.Join(dir, "r.rpr"), n: 3, slots: 2, rate: 100, service: time.Millisecond,
		targets: filepath.Join(dir, "targets.txt"), targetBase: "http://127.0.0.1:9/"}
	require.NoError(t, run(c, &bytes.Buffer{}))
	b, err := os.ReadFile(c.targets)
	require.NoError(t, err)
	blocks := strings.Split(strings.TrimSuffix(string(b), "\n\n"), "\n\n")
	require.Len(t, blocks, 3)
	exs := readAll(t, c.out)
	for i, blk := range blocks {
		lines := strings.Split(blk, "\n")
		req := exs[i].GetRequest()
		assert.Equal(t, "GET http://127.0.0.1:9"+req.GetPath()+"?"+req.GetRawQuery(), lines[0])
		assert.Len(t, lines, 1+len(req.GetHeaders()))
		assert.Contains(t, lines, "X-Request-Id: "+req.GetHeaders()[4].GetValues()[0])
	}
}

func TestBadConfig(t *testing.T) {
	ok := config{out: "x.rpr", n: 10, slots: 4, rate: 100, service: time.Millisecond}
	for name, tc := range map[string]struct {
		mut  func(*config)
		want string
	}{
		"no out":         {func(c *config) { c.out = "" }, "-out"},
		"no exchanges":   {func(c *config) { c.n = 0 }, "-n 0"},
		"no sessions":    {func(c *config) { c.slots = 0 }, "-sessions 0"},
		"negative len":   {func(c *config) { c.sessionLen = -1 }, "-session-len"},
		"zero rate":      {func(c *config) { c.rate = 0 }, "-rate"},
		"zero service":   {func(c *config) { c.service = 0 }, "-service 0s"},
		"service > slot": {func(c *config) { c.service = 40 * time.Millisecond }, "must be shorter than sessions/rate = 40ms"},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			err := run(c, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
