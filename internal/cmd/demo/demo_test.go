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

func TestDemoRecordsEveryRequest(t *testing.T) {
	ios, _, out, errOut := cli.Test()
	path := filepath.Join(t.TempDir(), "demo.rpr")
	err := run(context.Background(), &Options{IO: ios, Out: path, Testers: 4, Duration: 2 * time.Second, Seed: 3})
	require.NoError(t, err, errOut.String())

	assert.Contains(t, out.String(), "POST /v1/items/{id}/buy")
	assert.Contains(t, out.String(), "Complete:     yes")
	assert.Contains(t, errOut.String(), "dropped 0")

	r, err := recording.Open(path)
	require.NoError(t, err)
	defer r.Close()
	protocols := map[string]int{}
	for rec, err := range r.All() {
		require.NoError(t, err)
		protocols[rec.GetExchange().GetProtocol().String()]++
	}
	assert.True(t, r.Complete())
	assert.Positive(t, protocols["PROTOCOL_HTTP1"], "most testers speak HTTP/1.1")
	assert.Positive(t, protocols["PROTOCOL_H2C"], "one in four speaks h2c")
}

func TestDemoRejectsBadFlags(t *testing.T) {
	ios, _, _, _ := cli.Test()
	err := run(context.Background(), &Options{IO: ios, Testers: 0, Duration: time.Second})
	assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err))
}
