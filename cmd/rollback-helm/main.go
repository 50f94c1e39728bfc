// Command rollback-helm carries `rollback helm`: the rollback binary runs
// it for that command group, so that Helm's library (tens of MB of memory
// at start) loads only when a Helm release is rolled back.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/vibestack/rollback/internal/command"
	helmcmd "github.com/vibestack/rollback/internal/command/helm"
	"github.com/vibestack/rollback/internal/iostreams"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	f := command.NewFactory(iostreams.System())
	f.Helm = helmcmd.New
	code := command.ExecuteWith(ctx, f, os.Args[1:])
	stop()
	os.Exit(code)
}
