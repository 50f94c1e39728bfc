package main

import (
	"context"
	"fmt"
)

// p1 times the runbook's manual kubectl sequence (rollout history, rollout
// undo --to-revision, rollout status: three processes) against `rollback app
// undo` on the same kind of Deployment: 3 replicas, v1 good, v2 good, v3
// crash-looping. rollback runs twice: with --settle 0s (the same completion
// point as kubectl rollout status, plus fail-fast and the pod readiness
// check) and with the default 10 s settle window.
func (e *env) p1(ctx context.Context) error {
	ns, err := e.namespace(ctx, "bench-p1")
	if err != nil {
		return err
	}
	defer e.deleteNamespace(ns)
	logf("P1: %d alternating runs", e.o.runs)
	for i := 0; i < e.o.runs; i++ {
		names := []string{fmt.Sprintf("kubectl-%d", i), fmt.Sprintf("settle0-%d", i), fmt.Sprintf("settle10-%d", i)}
		if err := parallel(len(names), 3, func(j int) error {
			n := names[j]
			if err := e.ship(ctx, ns, n, "vibestack/app:v1", 1, true); err != nil {
				return err
			}
			if err := e.ship(ctx, ns, n, "vibestack/app:v2", 2, true); err != nil {
				return err
			}
			return e.ship(ctx, ns, n, "vibestack/app:crash", 3, false)
		}); err != nil {
			return err
		}
		arms := []func() error{
			func() error {
				var total result
				for _, args := range [][]string{
					{"rollout", "history", "deployment/" + names[0], "-n", ns},
					{"rollout", "undo", "deployment/" + names[0], "-n", ns, "--to-revision=2"},
					{"rollout", "status", "deployment/" + names[0], "-n", ns, "--timeout=120s"},
				} {
					r := e.timed(ctx, e.o.kubectl, args...)
					if r.code != 0 {
						return fmt.Errorf("kubectl %v: exit %d: %s", args, r.code, r.out)
					}
					total.took += r.took
				}
				e.rep.p1Kubectl = append(e.rep.p1Kubectl, total.took)
				return nil
			},
			func() error {
				r := e.timed(ctx, e.o.rollback, "app", "undo", names[1], "-n", ns, "--yes", "--settle", "0s")
				if r.code != 0 {
					return fmt.Errorf("rollback undo: exit %d: %s", r.code, r.out)
				}
				e.rep.p1Rollback0 = append(e.rep.p1Rollback0, r.took)
				return nil
			},
			func() error {
				r := e.timed(ctx, e.o.rollback, "app", "undo", names[2], "-n", ns, "--yes")
				if r.code != 0 {
					return fmt.Errorf("rollback undo: exit %d: %s", r.code, r.out)
				}
				e.rep.p1Rollback10 = append(e.rep.p1Rollback10, r.took)
				return nil
			},
		}
		if i%2 == 1 { // alternate the order
			arms[0], arms[1] = arms[1], arms[0]
		}
		for _, arm := range arms {
			if err := arm(); err != nil {
				return err
			}
		}
		logf("P1 run %d: kubectl %s, rollback --settle 0s %s, rollback (settle 10s) %s", i+1,
			e.rep.p1Kubectl[i], e.rep.p1Rollback0[i], e.rep.p1Rollback10[i])
	}
	return nil
}
