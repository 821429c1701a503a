package stack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	hstack "github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/stacktest"
	"github.com/reprise-dev/reprise/internal/cli"
)

var fakeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reprise-stackcmd-")
	if err == nil {
		err = stacktest.BuildFakes(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeBin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer lets the test read output while the command still writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func execute(ctx context.Context, ios *cli.IOStreams, args ...string) error {
	cmd := NewCmdStack(ios)
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	return cmd.ExecuteContext(ctx)
}

// `up` with the local driver prints the endpoints, stays up until the
// context ends (Ctrl-C), then tears the stack down.
func TestUpLocalForegroundUntilCancel(t *testing.T) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios := &cli.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- execute(ctx, ios, "up", "--bin-dir", fakeBin, "--env", "A=B") }()
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "press Ctrl-C") },
		60*time.Second, 20*time.Millisecond, "stderr: %s", errOut.String())
	table := out.String()
	assert.Contains(t, table, "SERVICE")
	for _, name := range hstack.Names() {
		assert.Contains(t, table, name)
	}
	assert.Contains(t, table, "http://127.0.0.1:")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(60 * time.Second):
		t.Fatal("up did not return after cancel")
	}
	assert.Contains(t, errOut.String(), "stack: stopped")
}

// Ctrl-C while the stack starts returns the cancellation (exit 130).
func TestUpCancelledDuringStart(t *testing.T) {
	ios, _, _, _ := cli.Test()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := execute(ctx, ios, "up", "--bin-dir", fakeBin)
	require.Error(t, err)
	assert.Equal(t, cli.ExitInterrupted, cli.ExitCode(err))
}

func TestBadInput(t *testing.T) {
	cases := map[string][]string{
		"unknown driver":  {"up", "--driver", "kubernetes"},
		"bad env":         {"up", "--driver", "local", "--env", "NOEQUALS"},
		"local down":      {"down"},
		"local status":    {"status"},
		"local logs":      {"logs", "gateway"},
		"unknown service": {"logs", "toaster", "--driver", "compose"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			ios, _, _, _ := cli.Test()
			err := execute(context.Background(), ios, args...)
			require.Error(t, err)
			assert.Equal(t, cli.ExitBadInput, cli.ExitCode(err), "%v", err)
		})
	}
}

func TestPrintStatusTable(t *testing.T) {
	ios, _, out, _ := cli.Test()
	err := printStatus(&Options{IO: ios}, []hstack.ServiceStatus{
		{Service: "gateway", State: hstack.StateRunning, Ready: true, ID: "42"},
		{Service: "indexer", State: hstack.StateExited, Detail: "signal killed"},
	})
	require.NoError(t, err)
	want := "SERVICE  STATE    READY  ID  DETAIL\n" +
		"gateway  running  yes    42  -\n" +
		"indexer  exited   no     -   signal killed\n"
	assert.Equal(t, want, out.String())
}

func TestHelpHasExamples(t *testing.T) {
	cmd := NewCmdStack(&cli.IOStreams{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		assert.NotEmpty(t, c.Example, c.CommandPath())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
}

// followLogs interleaves services with a name prefix.
func TestFollowLogsPrefixes(t *testing.T) {
	ctx := context.Background()
	d, err := hstack.Open(ctx, "local", hstack.BinDir(fakeBin))
	require.NoError(t, err)
	require.NoError(t, d.Up(ctx))
	lctx, cancel := context.WithCancel(ctx)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- followLogs(lctx, d, []string{"gateway", "indexer"}, out) }()
	require.Eventually(t, func() bool {
		s := out.String()
		return strings.Contains(s, "gateway     | {") && strings.Contains(s, "indexer     | {")
	}, 30*time.Second, 20*time.Millisecond, "%s", out.String())
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, d.Down(ctx))
}
