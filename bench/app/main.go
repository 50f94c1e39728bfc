// Command app benchmarks application rollback against the manual kubectl
// sequence on a real sandbox control plane and writes docs/benchmarks.md
// (section "Application rollback"). Run it with `make bench`.
//
//	go run ./bench/app [-runs 10] [-p3-runs 10] [-out docs/benchmarks.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/vibestack/rollback/bench/benchcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/app:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench/app", flag.ContinueOnError)
	o := options{}
	fs.IntVar(&o.runs, "runs", 10, "alternating A/B runs for P1 and P2")
	fs.IntVar(&o.p3Runs, "p3-runs", 10, "alternating A/B runs for P3 (100 deployments each)")
	fs.IntVar(&o.p3Deployments, "p3-deployments", 100, "deployments in P3 (spread over 10 namespaces)")
	fs.IntVar(&o.p6Deployments, "p6-deployments", 1000, "deployments in P6, the scale run (spread over 50 namespaces)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown file whose \"Application rollback\" section is rewritten")
	fs.StringVar(&o.only, "only", "", "run only these parts, e.g. p1,p2")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.rollback = benchcmd.EnvOr("ROLLBACK_BIN", "bin/rollback")
	o.kubectl = benchcmd.EnvOr("KUBECTL", "/usr/bin/kubectl")
	o.script = "scripts/rollback_k8s.sh"
	for _, p := range []*string{&o.rollback, &o.out, &o.script} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return benchmark(ctx, o)
}
