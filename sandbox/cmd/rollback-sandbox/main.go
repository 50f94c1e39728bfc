// Command rollback-sandbox runs a local Kubernetes control plane (etcd,
// kube-apiserver, kube-controller-manager and a pod simulator) in one
// process, for the demo, drills and end-to-end tests.
//
//	rollback-sandbox up [--dir DIR] [--port N] [--nodes N] [--ready-delay D] [--background]
//	rollback-sandbox status [--dir DIR]
//	rollback-sandbox down [--dir DIR]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  rollback-sandbox up [--dir DIR] [--port N] [--nodes N] [--ready-delay D] [--background]
  rollback-sandbox status [--dir DIR]
  rollback-sandbox down [--dir DIR]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "up":
		err = up(ctx, args[1:], stdout, stderr)
	case "down":
		err = down(args[1:], stdout, stderr)
	case "status":
		err = status(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rollback-sandbox: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "rollback-sandbox: %v\n", err)
		return 1
	}
	return 0
}
