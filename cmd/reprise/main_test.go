package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/reprise-dev/reprise/internal/demoapp"
)

// The end-to-end CLI tests are txtar scripts under testdata/script that run
// the real reprise binary (this test binary, re-executed as "reprise").
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"reprise": main,
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitCode,
			"gameapi":   cmdGameAPI,
			"waitaddrs": cmdWaitAddrs,
			"waithttp":  cmdWaitHTTP,
			"playgame":  cmdPlayGame,
			// The sharded-run proof (shardproof_test.go).
			"stubapi":    cmdStubAPI,
			"exitin":     cmdExitIn,
			"shardcheck": cmdShardCheck,
		},
	})
}

// cmdExitCode runs a program and checks its exact exit code, which plain
// `exec` cannot: `exitcode 2 reprise nope`.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	path, err := exec.LookPath(args[1])
	if err != nil {
		// testscript puts the commands it provides on the script's PATH.
		for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
			if p := filepath.Join(dir, args[1]); fileExists(p) {
				path, err = p, nil
				break
			}
		}
	}
	ts.Check(err)
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = append(os.Environ(), "PATH="+ts.Getenv("PATH"))
	out, _ := cmd.CombinedOutput()
	if got := cmd.ProcessState.ExitCode(); got != want {
		ts.Fatalf("%s exited %d, want %d; output:\n%s", strings.Join(args[1:], " "), got, want, out)
	}
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// cmdGameAPI starts the demo game API on loopback for the rest of the script
// and sets $GAMEAPI to its URL: `gameapi`.
func cmdGameAPI(ts *testscript.TestScript, neg bool, args []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var ps http.Protocols
	ps.SetHTTP1(true)
	ps.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: demoapp.NewServer(10), Protocols: &ps}
	go srv.Serve(ln)
	ts.Defer(func() { srv.Close() })
	ts.Setenv("GAMEAPI", "http://"+ln.Addr().String())
}

// cmdWaitAddrs waits for a `reprise record --addr-file` file, for at most
// ten seconds, and sets a variable per line, the key upper-cased:
// `waitaddrs addrs` sets LISTEN (and ADMIN when the recorder serves one).
// The recorder binds port 0 itself, so no port is picked and released
// first, for another process to take in between.
func cmdWaitAddrs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitaddrs FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					ts.Fatalf("%s: line %q is not key=value", args[0], line)
				}
				ts.Setenv(strings.ToUpper(k), v)
			}
			return
		}
		if !errors.Is(err, fs.ErrNotExist) || time.Now().After(deadline) {
			ts.Fatalf("%s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process; nothing to wait on
	}
}

// cmdWaitHTTP polls a URL until it answers, for at most ten seconds:
// `waithttp http://127.0.0.1:8080/healthz`.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not answer: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond) // polling an external process; nothing to wait on
	}
}

// cmdPlayGame drives a small seeded tester population against a URL:
// `playgame URL TESTERS ACTIONS`.
func cmdPlayGame(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: playgame URL TESTERS ACTIONS")
	}
	testers, err := strconv.Atoi(args[1])
	ts.Check(err)
	actions, err := strconv.Atoi(args[2])
	ts.Check(err)
	p := demoapp.Population{Testers: testers, Duration: 10 * time.Second, MaxActions: actions, Seed: 1, Items: 10, H2CShare: 0.5}
	st, err := demoapp.Drive(context.Background(), args[0], p)
	ts.Check(err)
	if st.Errors > 0 {
		ts.Fatalf("%d requests failed", st.Errors)
	}
	fmt.Fprintf(ts.Stdout(), "played %d requests\n", st.Requests)
}
