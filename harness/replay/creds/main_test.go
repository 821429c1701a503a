package creds

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// The test binary doubles as the credentials command: run with
// CREDS_HELPER set, it acts out one behaviour instead of running tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("CREDS_HELPER"); mode != "" {
		os.Exit(helper(mode))
	}
	goleak.VerifyTestMain(m)
}

func helper(mode string) int {
	if path := os.Getenv("CREDS_COUNT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return 90
		}
		fmt.Fprintln(f, os.Getenv(EnvSession), os.Getenv(EnvPlaceholder))
		f.Close()
	}
	session, placeholder := os.Getenv(EnvSession), os.Getenv(EnvPlaceholder)
	switch mode {
	case "echo":
		fmt.Printf("  tok:%s:%s\n\n", session, placeholder)
	case "fail":
		fmt.Fprint(os.Stderr, "\n  boom: no such user  \nsecond line\n")
		fmt.Print("half-a-token")
		return 3
	case "empty":
		fmt.Print(" \n\t\n")
	case "gate": // wait until the test opens the FIFO for writing
		b, err := os.ReadFile(os.Getenv("CREDS_FIFO"))
		if err != nil {
			return 91
		}
		fmt.Printf("tok-%s", strings.TrimSpace(string(b)))
	case "hang": // hang until killed; the signal handler keeps the runtime from calling it a deadlock
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt)
		<-c
	case "flood":
		chunk := []byte(strings.Repeat("a", 32<<10))
		for {
			if _, err := os.Stdout.Write(chunk); err != nil {
				return 92
			}
		}
	default:
		return 93
	}
	return 0
}
