package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectlCap caps kubectl rollout status in P2.
const kubectlCap = 120 * time.Second

// p2 measures the time from a crash-looping rollout starting to the tool
// reporting failure: `rollback app status` against `kubectl rollout status`
// (progressDeadlineSeconds 600, kubectl capped at 120 s). The kubectl runs
// all hit the cap, so they run concurrently on their own Deployments while
// the rollback runs go one after the other.
func (e *env) p2(ctx context.Context) error {
	ns, err := e.namespace(ctx, "bench-p2")
	if err != nil {
		return err
	}
	defer e.deleteNamespace(ns)
	logf("P2: %d runs each", e.o.runs)
	deadline600 := func(d *appsv1.Deployment) { s := int32(600); d.Spec.ProgressDeadlineSeconds = &s }
	setup := func(name string) error {
		d := deploymentSpec(ns, name, "vibestack/app:v1", 3)
		deadline600(d)
		if _, err := e.cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			return err
		}
		return e.waitRolledOut(ctx, ns, name)
	}
	n := e.o.runs
	if err := parallel(2*n, 10, func(i int) error {
		prefix := "kubectl"
		if i >= n {
			prefix = "rollback"
		}
		return setup(fmt.Sprintf("%s-%d", prefix, i%n))
	}); err != nil {
		return err
	}
	kubectlDone := make(chan error, 1)
	go func() {
		kubectlDone <- parallel(n, n, func(i int) error {
			name := fmt.Sprintf("kubectl-%d", i)
			start := time.Now()
			if err := setImage(ctx, e.cs, ns, name, "vibestack/app:crash", "bad release"); err != nil {
				return err
			}
			r := e.timed(ctx, e.o.kubectl, "rollout", "status", "deployment/"+name, "-n", ns, fmt.Sprintf("--timeout=%s", kubectlCap))
			e.rep.mu.Lock()
			_ = r
			e.rep.p2Kubectl = append(e.rep.p2Kubectl, time.Since(start))
			e.rep.mu.Unlock()
			return nil
		})
	}()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("rollback-%d", i)
		start := time.Now()
		if err := setImage(ctx, e.cs, ns, name, "vibestack/app:crash", "bad release"); err != nil {
			return err
		}
		r := e.timed(ctx, e.o.rollback, "app", "status", name, "-n", ns)
		took := time.Since(start)
		if r.code != 3 || !strings.Contains(r.out, "CrashLoopBackOff") {
			return fmt.Errorf("rollback status: exit %d, want 3 with CrashLoopBackOff: %s", r.code, r.out)
		}
		e.rep.mu.Lock()
		e.rep.p2Rollback = append(e.rep.p2Rollback, took)
		e.rep.mu.Unlock()
		logf("P2 run %d: rollback app status reported the crash loop after %s", i+1, took)
	}
	logf("P2: waiting for the kubectl runs (capped at %s)", kubectlCap)
	return <-kubectlDone
}
