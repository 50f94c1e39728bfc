package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/vibestack/rollback/pkg/rollout"
)

// p3 rolls back 100 crash-looping Deployments in 10 namespaces: `rollback
// app undo -l ... -A` against a sequential loop of scripts/rollback_k8s.sh,
// both with --settle 0s; it records rollback's peak RSS (P5) and, in one
// more in-process run through a counting RoundTripper, the API requests per
// Deployment.
func (e *env) p3(ctx context.Context) error {
	const namespaces = 10
	fl, cleanup, err := e.newFleet(ctx, "P3", "bench-p3", namespaces, e.o.p3Deployments/namespaces, 3)
	defer cleanup()
	if err != nil {
		return err
	}
	deps, sel := fl.deps, fl.selector()
	logf("P3: %d alternating runs", e.o.p3Runs)
	e.rep.p5Baseline = e.timed(ctx, e.o.rollback, "--version").maxRSS
	breakRelease := func() error { return fl.breakRelease(ctx) }
	arms := []func() error{
		func() error {
			cp0 := e.controlPlaneCPU()
			r := e.timedSampled(ctx, e.o.rollback, "app", "undo", "-l", sel, "-A", "--yes", "--settle", "0s")
			if r.code != 0 {
				return fmt.Errorf("rollback bulk undo: exit %d: %s", r.code, r.out)
			}
			cp := e.controlPlaneCPU() - cp0
			e.rep.p3Rollback = append(e.rep.p3Rollback, r.took)
			e.rep.p3RollbackCPU = append(e.rep.p3RollbackCPU, cpuSample{tool: r.cpu, controlPlane: cp})
			e.rep.p5RSS = append(e.rep.p5RSS, r.maxRSS)
			e.rep.p5Anon, e.rep.p5File = max(e.rep.p5Anon, r.peakAnon), max(e.rep.p5File, r.peakFile)
			logf("P3: rollback app undo -l: %s (cpu: rollback %s, control plane %s), peak RSS %d MiB (anon %d, file %d)",
				r.took, r.cpu.Round(time.Millisecond), cp.Round(time.Millisecond), r.maxRSS/1024, r.peakAnon/1024, r.peakFile/1024)
			return nil
		},
		func() error {
			start := time.Now()
			cp0 := e.controlPlaneCPU()
			var tool time.Duration
			for _, d := range deps {
				r := e.timed(ctx, "bash", e.o.script, d.name, d.ns, "--settle", "0s")
				if r.code != 0 {
					return fmt.Errorf("rollback_k8s.sh %s %s: exit %d: %s", d.name, d.ns, r.code, r.out)
				}
				tool += r.cpu
			}
			cp := e.controlPlaneCPU() - cp0
			e.rep.p3Loop = append(e.rep.p3Loop, time.Since(start))
			e.rep.p3LoopCPU = append(e.rep.p3LoopCPU, cpuSample{tool: tool, controlPlane: cp})
			logf("P3: loop of rollback_k8s.sh: %s (cpu: scripts %s, control plane %s)", time.Since(start), tool.Round(time.Millisecond), cp.Round(time.Millisecond))
			return nil
		},
	}
	for i := 0; i < e.o.p3Runs; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, a := range order {
			if err := breakRelease(); err != nil {
				return err
			}
			if err := arms[a](); err != nil {
				return err
			}
		}
	}
	// Requests per Deployment, counted in-process on the same code path.
	if err := breakRelease(); err != nil {
		return err
	}
	var n atomic.Int64
	cs, err := kubernetes.NewForConfig(countingConfig(e.sb.Config, &n))
	if err != nil {
		return err
	}
	b := rollout.BulkUndo{Clientset: cs, Selector: sel, Options: rollout.Undo{Verification: rollout.Verification{Timeout: 5 * time.Minute}}}
	res, err := b.Run(ctx)
	if err != nil {
		return fmt.Errorf("counted bulk undo: %w", err)
	}
	e.rep.p3Requests = n.Load()
	e.rep.p3Counted = len(res.Results)
	logf("P3: %d API requests for %d deployments", e.rep.p3Requests, len(res.Results))
	return nil
}
