package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/pkg/rollout"
)

// fleet is the set of Deployments of a bulk run (P3, P6): created healthy
// and stamped known-good, then broken by a crash-looping release again
// before every timed run.
type fleet struct {
	e       *env
	name    string // P3, P6 (logs)
	label   string // value of the label "bench" the selector picks
	deps    []fleetDep
	release int
}

type fleetDep struct{ ns, name string }

// newFleet creates perNS Deployments with replicas in each of namespaces new
// namespaces (deleted by the returned cleanup), waits until each is rolled
// out and stamps it known-good.
func (e *env) newFleet(ctx context.Context, name, prefix string, namespaces, perNS int, replicas int32) (*fleet, func(), error) {
	f := &fleet{e: e, name: name}
	var created []string
	cleanup := func() {
		for _, ns := range created {
			e.deleteNamespace(ns)
		}
	}
	for i := 0; i < namespaces; i++ {
		ns, err := e.namespace(ctx, prefix)
		if err != nil {
			return nil, cleanup, err
		}
		created = append(created, ns)
		for j := 0; j < perNS; j++ {
			f.deps = append(f.deps, fleetDep{ns, fmt.Sprintf("svc-%d", j)})
		}
	}
	f.label = prefix[len("bench-"):] + "-" + f.deps[0].ns
	logf("%s: %d deployments in %d namespaces", name, len(f.deps), namespaces)
	err := parallel(len(f.deps), 20, func(i int) error {
		d := deploymentSpec(f.deps[i].ns, f.deps[i].name, "vibestack/app:v1", replicas)
		d.Labels["bench"] = f.label
		if _, err := e.cs.AppsV1().Deployments(d.Namespace).Create(ctx, d, createOpts); err != nil {
			return err
		}
		if err := e.waitRolledOut(ctx, d.Namespace, d.Name); err != nil {
			return err
		}
		return rollout.MarkGood(ctx, rollout.NewClients(e.cs, d.Namespace), d.Name, time.Now())
	})
	return f, cleanup, err
}

// selector selects the fleet's Deployments.
func (f *fleet) selector() string { return "bench=" + f.label }

// breakRelease ships a new crash-looping image to every Deployment and waits
// until each new pod crashed at least once and the control plane is quiet
// again, so that a timed undo pays for the rollback only, not the release.
func (f *fleet) breakRelease(ctx context.Context) error {
	e := f.e
	f.release++
	image := fmt.Sprintf("vibestack/app:crash-%d", f.release)
	if err := parallel(len(f.deps), 20, func(i int) error {
		d := e.get(ctx, f.deps[i].ns, f.deps[i].name)
		if d == nil {
			return fmt.Errorf("get %s/%s", f.deps[i].ns, f.deps[i].name)
		}
		var rev int
		fmt.Sscan(d.Annotations["deployment.kubernetes.io/revision"], &rev)
		if err := setImage(ctx, e.cs, f.deps[i].ns, f.deps[i].name, image, "bad release"); err != nil {
			return err
		}
		return e.waitRevision(ctx, f.deps[i].ns, f.deps[i].name, rev+1)
	}); err != nil {
		return err
	}
	return benchcmd.Poll(ctx, 2*time.Minute, 50*time.Millisecond, f.name+": every bad pod crash-looping", func() bool {
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
		return crashed >= len(f.deps)
	})
}
