package replay

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/replay"
	"github.com/reprise-dev/reprise/internal/cli"
)

func TestTimeShift(t *testing.T) {
	srv, got := newTokenTarget(t)
	before := time.Now()
	_, errOut, code := execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir(), "--time-shift")
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	require.Len(t, got.bodies, 2)
	for _, b := range got.bodies {
		var ev struct{ Kind, At string }
		require.NoError(t, json.Unmarshal([]byte(b), &ev), b)
		at, err := time.Parse(time.RFC3339Nano, ev.At)
		require.NoError(t, err, b)
		// The recording starts at the anchor and the stamp is 0.5s in:
		// shifted, it reads 0.5s after the replay started.
		assert.WithinDuration(t, before.Add(500*time.Millisecond), at, 5*time.Second, b)
		assert.True(t, strings.HasSuffix(ev.At, "Z"), "same format: %s", ev.At)
	}

	got.bodies = nil
	_, errOut, code = execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", t.TempDir())
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	for _, b := range got.bodies {
		assert.Contains(t, b, "2023-11-14T22:13:20.5Z", "no shift without --time-shift")
	}
}

func TestShardedRunIsLabelled(t *testing.T) {
	srv, _ := newTokenTarget(t)
	dir := filepath.Join(t.TempDir(), "run")
	_, errOut, code := execute(t, tokenRecording(t), "--target", srv.URL, "--timing", "asap", "--out", dir, "--shard", "0/2")
	require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, errOut)
	b, err := os.ReadFile(filepath.Join(dir, replay.SummaryFile))
	require.NoError(t, err)
	var sum replay.Summary
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, "0/2", sum.Shard, "merge tells shards apart by this label")
}
