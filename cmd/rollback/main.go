// Command rollback is the emergency-rollback tool for applications on
// Kubernetes. Installed as kubectl-rollback it also works as a kubectl plugin.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/iostreams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Execute(ctx, iostreams.System(), os.Args[1:])
	stop()
	os.Exit(code)
}
