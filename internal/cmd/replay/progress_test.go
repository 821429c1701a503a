package replay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/scenarios"
)

func TestProgressOnlyOnTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"token":"live-123456789"}`)) }))
	defer srv.Close()
	file := sampleRecording(t)
	for _, term := range []bool{false, true} {
		ios, _, stdout, errOut := cli.Test()
		ios.IsTerminal = term
		target, timing, out := srv.URL, scenarios.ASAP, filepath.Join(t.TempDir(), "run")
		opts := &Options{IO: ios, File: file, Timeout: 5e9,
			Over: &scenarios.Overrides{Target: &target, Timing: &timing, Out: &out}}
		err := run(context.Background(), opts)
		code := cli.ExitCode(err)
		require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, "%v", err)
		assert.Contains(t, stdout.String(), "total")
		if term {
			assert.Contains(t, errOut.String(), "replay ", "the bar goes to stderr on a terminal")
		} else {
			assert.Empty(t, errOut.String(), "no bar off a terminal")
		}
	}
}
