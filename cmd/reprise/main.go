// Command reprise records, replays and checks real tester traffic. The main
// function only wires signals and streams; every verb lives in internal/cmd.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/reprise-dev/reprise/internal/cli"
	"github.com/reprise-dev/reprise/internal/cmd/root"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := root.Run(ctx, cli.System(), os.Args[1:])
	stop()
	os.Exit(code)
}
