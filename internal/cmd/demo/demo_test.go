package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/internal/cli"
)

// The demo runs the real reference stack with the local driver; the first
// run in a fresh cache builds the five services.
func TestDemoRecordsTheStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the reference stack")
	}
	ios, _, out, errOut := cli.Test()
	path := filepath.Join(t.TempDir(), "demo.rpr")
	err := run(context.Background(), &Options{IO: ios, Out: path, Testers: 6, Duration: 3 * time.Second, Seed: 3})
	require.NoError(t, err, errOut.String())

	assert.Contains(t, out.String(), "POST /v1/login")
	assert.Contains(t, out.String(), "Complete:     yes")
	assert.Contains(t, errOut.String(), "0 dropped")
	assert.Contains(t, errOut.String(), "stack down")

	r, err := recording.Open(path)
	require.NoError(t, err)
	defer r.Close()
	routes := map[string]int{}
	for rec, err := range r.All() {
		require.NoError(t, err)
		ex := rec.GetExchange()
		routes[ex.GetRequest().GetMethod()+" "+ex.GetRequest().GetPath()]++
		assert.Less(t, ex.GetResponse().GetStatus(), int32(500), "no service errors with every fault off: %s %s: %s %q", ex.GetRequest().GetMethod(), ex.GetRequest().GetPath(), ex.GetError(), ex.GetResponse().GetBody().GetData())
	}
	assert.True(t, r.Complete())
	assert.Positive(t, routes["POST /v1/login"])
}

func TestDemoRejectsBadFlags(t *testing.T) {
	ios, _, _, _ := cli.Test()
	err := run(context.Background(), &Options{IO: ios, Testers: 0, Duration: time.Second})
	assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err))
	err = run(context.Background(), &Options{IO: ios, Testers: 2, Duration: time.Second, Mix: "wizard=1"})
	assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err))
}
