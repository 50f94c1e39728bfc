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

// p6 is the scale run: 1,000 crash-looping Deployments in 50 namespaces (one
// replica each) rolled back by one `rollback app undo -l ... -A`. It records
// the tool's CPU time, its peak RSS and the control plane's CPU time, and in
// one more in-process run of the same BulkUndo code through a counting
// RoundTripper the API requests per Deployment.
func (e *env) p6(ctx context.Context) error {
	const namespaces = 50
	per := e.o.p6Deployments / namespaces
	type dep struct{ ns, name string }
	var deps []dep
	for i := 0; i < namespaces; i++ {
		ns, err := e.namespace(ctx, "bench-p6")
		if err != nil {
			return err
		}
		defer e.deleteNamespace(ns)
		for j := 0; j < per; j++ {
			deps = append(deps, dep{ns, fmt.Sprintf("svc-%d", j)})
		}
	}
	logf("P6: %d deployments in %d namespaces", len(deps), namespaces)
	label := "p6-" + deps[0].ns
	sel := "bench=" + label
	if err := parallel(len(deps), 20, func(i int) error {
		d := deploymentSpec(deps[i].ns, deps[i].name, "vibestack/app:v1", 1)
		d.Labels["bench"] = label
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
		image := fmt.Sprintf("vibestack/app:crash-%d", release)
		if err := parallel(len(deps), 20, func(i int) error {
			return setImage(ctx, e.cs, deps[i].ns, deps[i].name, image, "bad release")
		}); err != nil {
			return err
		}
		return until(ctx, "every bad pod crash-looping", func() bool {
			pods, err := e.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: ""})
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
