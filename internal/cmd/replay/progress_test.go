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
)

func TestProgressOnlyOnTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"token":"live-123456789"}`)) }))
	defer srv.Close()
	file := sampleRecording(t)
	for _, term := range []bool{false, true} {
		ios, _, out, errOut := cli.Test()
		ios.IsTerminal = term
		opts := &Options{IO: ios, File: file, Target: srv.URL, Timing: "asap", Speed: 1,
			Out: filepath.Join(t.TempDir(), "run"), Timeout: 5e9}
		err := run(context.Background(), opts)
		code := cli.ExitCode(err)
		require.Contains(t, []int{cli.ExitOK, cli.ExitInvalidRun}, code, "%v", err)
		assert.Contains(t, out.String(), "total")
		if term {
			assert.Contains(t, errOut.String(), "replay ", "the bar goes to stderr on a terminal")
		} else {
			assert.Empty(t, errOut.String(), "no bar off a terminal")
		}
	}
}
