package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	per := e.o.p3Deployments / namespaces
	type dep struct{ ns, name string }
	var deps []dep
	for i := 0; i < namespaces; i++ {
		ns, err := e.namespace(ctx, "bench-p3")
		if err != nil {
			return err
		}
		defer e.deleteNamespace(ns)
		for j := 0; j < per; j++ {
			deps = append(deps, dep{ns, fmt.Sprintf("svc-%d", j)})
		}
	}
	logf("P3: %d deployments in %d namespaces, %d alternating runs", len(deps), namespaces, e.o.p3Runs)
	e.rep.p5Baseline = e.timed(ctx, e.o.rollback, "--version").maxRSS
	sel := "bench=p3-" + deps[0].ns
	if err := parallel(len(deps), 20, func(i int) error {
		d := deploymentSpec(deps[i].ns, deps[i].name, "vibestack/app:v1", 3)
		d.Labels["bench"] = "p3-" + deps[0].ns
		if _, err := e.cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, createOpts); err != nil {
			return err
		}
		if err := e.waitRolledOut(ctx, d.Namespace, d.Name); err != nil {
			return err
		}
		return rollout.MarkGood(ctx, rollout.NewClients(e.cs, d.Namespace), d.Name, time.Now())
	}); err != nil {
		return err
	}
	release := 0
	breakRelease := func() error {
		release++
		if err := parallel(len(deps), 20, func(i int) error {
			d := e.get(ctx, deps[i].ns, deps[i].name)
			if d == nil {
				return fmt.Errorf("get %s/%s", deps[i].ns, deps[i].name)
			}
			var rev int
			fmt.Sscan(d.Annotations["deployment.kubernetes.io/revision"], &rev)
			if err := setImage(ctx, e.cs, deps[i].ns, deps[i].name, fmt.Sprintf("vibestack/app:crash-%d", release), "bad release"); err != nil {
				return err
			}
			return e.waitRevision(ctx, deps[i].ns, deps[i].name, rev+1)
		}); err != nil {
			return err
		}
		// Time the undo of a release seen failing, not one still being
		// created: every new pod has crashed at least once and the control
		// plane is quiet again, so neither arm pays for the release.
		image := fmt.Sprintf("vibestack/app:crash-%d", release)
		return until(ctx, "every bad pod crash-looping", func() bool {
			pods, err := e.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
			if err != nil {
				return false
			}
			crashed := 0
			for _, p := range pods.Items {
				if p.Spec.Containers[0].Image == image && len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount > 0 {
					crashed++
				}
			}
			return crashed >= len(deps)
		})
	}
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
