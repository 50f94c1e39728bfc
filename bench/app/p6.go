package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/rollout"
)

// p6 is the scale run: 1,000 crash-looping Deployments in 50 namespaces (one
// replica each) rolled back by one `rollback app undo -l ... -A`. It records
// the tool's CPU time, its peak RSS and the control plane's CPU time, and in
// one more in-process run of the same BulkUndo code through a counting
// RoundTripper the API requests per Deployment.
func (e *env) p6(ctx context.Context) error {
	const namespaces = 50
	fl, cleanup, err := e.newFleet(ctx, "P6", "bench-p6", namespaces, e.o.p6Deployments/namespaces, 1)
	defer cleanup()
	if err != nil {
		return err
	}
	deps, sel := fl.deps, fl.selector()
	breakRelease := func() error { return fl.breakRelease(ctx) }
	if err := breakRelease(); err != nil {
		return err
	}
	cp0 := e.controlPlaneCPU()
	r := e.timedSampled(ctx, e.o.rollback, "app", "undo", "-l", sel, "-A", "--yes", "--settle", "0s", "--timeout", "10m")
	if r.code != 0 {
		return fmt.Errorf("rollback bulk undo of %d: exit %d: %s", len(deps), r.code, r.out)
	}
	e.rep.p6 = &scaleRun{deployments: len(deps), took: r.took, tool: r.cpu, controlPlane: e.controlPlaneCPU() - cp0, maxRSS: r.maxRSS, anon: r.peakAnon, file: r.peakFile}
	logf("P6: rollback app undo -l of %d: %s (cpu: rollback %s, control plane %s), peak RSS %d MiB", len(deps), r.took, r.cpu, e.rep.p6.controlPlane, r.maxRSS/1024)

	if err := breakRelease(); err != nil {
		return err
	}
	var n atomic.Int64
	cs, err := kubernetes.NewForConfig(countingConfig(e.sb.Config, &n))
	if err != nil {
		return err
	}
	b := rollout.BulkUndo{Clientset: cs, Selector: sel, Options: rollout.Undo{Verification: rollout.Verification{Timeout: 10 * time.Minute}}}
	res, err := b.Run(ctx)
	if err != nil {
		return fmt.Errorf("counted bulk undo: %w", err)
	}
	e.rep.p6.requests, e.rep.p6.counted = n.Load(), len(res.Results)
	logf("P6: %d API requests for %d deployments", e.rep.p6.requests, len(res.Results))
	return nil
}

// scaleRun is the outcome of P6.
type scaleRun struct {
	deployments        int
	took               time.Duration
	tool, controlPlane time.Duration
	maxRSS, anon, file int64 // KiB
	requests           int64
	counted            int
}
