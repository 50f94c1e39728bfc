package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/kube"
	rcommon "helm.sh/helm/v4/pkg/release/common"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/podrefs"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Undo rolls a release back to its last known good revision through Helm's
// library, replaces the pod a StatefulSet of the release is stuck on, then
// verifies every Deployment, StatefulSet and DaemonSet of the release.
type Undo struct {
	Config
	// ToRevision is the target; 0 means the last known good revision.
	ToRevision int
	// DryRun plans and changes nothing.
	DryRun bool
	// RecoverPending marks a pending-* current revision failed (through
	// Helm's storage) before rolling back.
	RecoverPending bool
	// Force goes ahead although an owner other than the release (Argo CD,
	// Flux, an operator) would revert the rollback.
	Force bool
	// Verification is how every workload of the release is watched and
	// verified (its Timeout also bounds Helm's rollback hooks).
	Verification rollout.Verification
	// Observer receives the plan and the progress; nil discards them.
	Observer progress.Observer
	// MaxHistory is Helm's --history-max for the rollback (0: unlimited).
	MaxHistory int
	// Confirm is asked with the plan before any write; nil means yes.
	Confirm func(*Plan) (bool, error)
	// Journal records the recovery of a pending revision (the caller's
	// incident journals the step itself); nil records nothing.
	Journal Recorder
	// By names who marks revisions (undo, mark-good, run, guard); empty
	// is the operation's own name.
	By string
	// Snapshots names config snapshots in refusals over missing configuration.
	Snapshots podrefs.SnapshotFinder
}

// Run plans, confirms, recovers a pending release when asked, rolls back
// through action.Rollback and verifies. The error's outcome kind says how
// it ended (refused, unhealthy, timeout).
func (u *Undo) Run(ctx context.Context, release string) (*UndoResult, error) {
	clk := u.clock()
	start := clk.Now()
	res := &UndoResult{Release: release, Namespace: u.Namespace, Verdict: VerdictError}
	finish := func(err error) (*UndoResult, error) {
		res.Durations = rollout.Duration(clk.Since(start))
		if err != nil {
			res.Error = err.Error()
			if res.Verdict == VerdictError && outcome.KindOf(err) == outcome.Refused {
				res.Verdict = VerdictRefused
			}
		}
		return res, err
	}
	cfg, err := u.action()
	if err != nil {
		return finish(err)
	}
	p, err := u.plan(ctx, cfg, release)
	if p != nil {
		res.Plan = p.Plan
	}
	if err != nil {
		return finish(err)
	}
	if p.Skip {
		res.Verdict = VerdictSkipped
		u.printf("%s: skipped: %s", release, p.Reason)
		return finish(nil)
	}
	var text strings.Builder
	helmtarget.WritePlan(&text, p.Plan)
	progress.Emit(u.Observer, progress.Event{Time: clk.Now(), Kind: progress.Plan, Source: source, Target: "helmrelease/" + release,
		Message: strings.TrimRight(text.String(), "\n"), Data: p.Plan})
	if u.DryRun {
		res.Verdict = VerdictDryRun
		u.printf("dry run: nothing changed")
		return finish(nil)
	}
	if u.Confirm != nil {
		ok, err := u.Confirm(p.Plan)
		if err != nil {
			return finish(outcome.AsRefused(err))
		}
		if !ok {
			return finish(outcome.AsRefused(errors.New("cancelled at the prompt; nothing changed")))
		}
	}
	target := "helmrelease/" + release
	if p.Pending != nil {
		if err := u.recoverPending(ctx, cfg, release, p.Pending); err != nil {
			u.record(ctx, journal.Entry{Step: "helm", Action: journal.ActionHelmPendingRecoveryFailed, Target: target, Before: p.Pending, Result: journal.ResultFailed, Error: err.Error()})
			return finish(err)
		}
		res.RecoveredPending = p.Pending
		u.record(ctx, journal.Entry{Step: "helm", Action: journal.ActionHelmPendingRecovered, Target: target, Before: p.Pending,
			After: map[string]any{"revision": p.Pending.Revision, "status": string(rcommon.StatusFailed)}, Result: journal.ResultOK})
		u.printf("%s: revision %d was %s; marked failed", release, p.Pending.Revision, p.Pending.Status)
	}
	rb := action.NewRollback(cfg)
	rb.Version, rb.WaitStrategy, rb.Timeout, rb.MaxHistory = p.To.Revision, kube.HookOnlyStrategy, u.timeout(), u.MaxHistory
	if err := ctx.Err(); err != nil {
		return finish(err)
	}
	// Helm's server-side apply must write as the field manager that owns
	// the release's fields (helm for the CLI, helm-controller for Flux),
	// or it conflicts with it. Helm's library takes the name from a
	// package variable; this process does one rollback.
	kube.ManagedFieldsManager = p.FieldManager
	if err := rb.Run(release); err != nil {
		err = fmt.Errorf("helm rollback of release %s to revision %d: %w", release, p.To.Revision, err)
		if revs, herr := history(cfg, release, u.Namespace); herr == nil && revs[len(revs)-1].Version > p.From.Revision {
			res.NewRevision = revs[len(revs)-1].Version
			err = fmt.Errorf("%w; Helm recorded revision %d as %s", err, res.NewRevision, status(revs[len(revs)-1]))
		}
		return finish(err)
	}
	res.NewRevision = p.From.Revision + 1
	progress.Emit(u.Observer, progress.Event{Time: clk.Now(), Kind: progress.Written, Source: source, Target: target,
		Message: fmt.Sprintf("%s: rolled back to revision %d through Helm (now revision %d); verifying its workloads", release, p.To.Revision, res.NewRevision)})
	progress.Emit(u.Observer, progress.Event{Time: clk.Now(), Kind: progress.Verifying, Source: source, Target: target})
	res.Workloads = u.verify(ctx, workloads(p.target), true)
	res.Verdict = VerdictHealthy
	var bad []string
	var worst error
	for _, w := range res.Workloads {
		if err := w.Err(); err != nil {
			bad = append(bad, w.Workload().String()+": "+w.Reason)
			if worst == nil || outcome.KindOf(err) == outcome.TimedOut {
				worst = err
			}
		}
	}
	mk := Mark{Verdict: MarkGood, At: clk.Now(), By: u.by("undo"), Hash: manifestHash(p.to.Manifest)}
	if len(bad) > 0 {
		res.Verdict = VerdictUnhealthy
		if outcome.KindOf(worst) == outcome.TimedOut {
			res.Verdict = rollout.VerdictTimeout
		}
		mk.Verdict, mk.Reason = MarkFailed, strings.Join(bad, "; ")
	}
	m := u.marks()
	m.release = release
	if err := m.write(ctx, res.NewRevision, mk); err != nil {
		p.Warnings = append(p.Warnings, err.Error())
	} else {
		res.Marked = mk.Verdict
	}
	if worst != nil {
		worst = outcome.As(outcome.KindOf(worst), fmt.Errorf("release %s rolled back to revision %d (now %d), but %w", release, p.To.Revision, res.NewRevision, worst))
	}
	return finish(worst)
}

// recoverPending marks the pending revision failed through Helm's storage,
// as `helm rollback` would need it to be.
func (u *Undo) recoverPending(ctx context.Context, cfg *action.Configuration, release string, pd *Pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rels, err := history(cfg, release, u.Namespace)
	if err != nil {
		return err
	}
	for _, x := range rels {
		if x.Version != pd.Revision {
			continue
		}
		x.SetStatus(rcommon.StatusFailed, fmt.Sprintf("marked failed by rollback --recover-pending: was %s since %s (%s)", pd.Status, pd.Since.UTC().Format(time.RFC3339), pd.Description))
		if err := cfg.Releases.Update(x); err != nil {
			return fmt.Errorf("mark pending revision %d of release %s failed: %w", pd.Revision, release, err)
		}
		return nil
	}
	return fmt.Errorf("mark pending revision %d of release %s failed: it is gone from the history", pd.Revision, release)
}

// verify watches and verifies every workload of the release (Deployments,
// StatefulSets, DaemonSets) with rollout.Status, concurrently: the one
// verification. With unstick (after Helm's rollback), a StatefulSet stuck
// on a failing pod of the bad revision (kubernetes/kubernetes#67250) gets
// that pod replaced first, by rollout.Undo carrying out rollout.PlanUnstick.
func (u *Undo) verify(ctx context.Context, objs []object, unstick bool) []*rollout.StatusResult {
	out := make([]*rollout.StatusResult, len(objs))
	var wg sync.WaitGroup
	for i, o := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients := rollout.NewClients(u.Clientset, o.Namespace)
			v := u.Verification.WithClock(u.clock())
			var r *rollout.StatusResult
			var err error
			if unstick && o.Kind == string(rollout.KindStatefulSet) {
				r, err = u.unstick(ctx, clients, v, o)
			}
			if r == nil && err == nil {
				st := rollout.Status{Clients: clients, Verification: v, Observer: u.Observer}
				r, err = st.Run(ctx, o.workload())
			}
			if r == nil {
				r = &rollout.StatusResult{Kind: rollout.Kind(o.Kind), Name: o.Name, Namespace: o.Namespace, Verdict: VerdictError}
				if o.Kind == string(rollout.KindDeployment) {
					r.Deployment = o.Name
				}
				if err != nil {
					r.Reason = err.Error()
				}
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out
}

// unstick waits until the StatefulSet o observed the template Helm's
// rollback wrote, then, when it is stuck on a failing pod of another
// revision, replaces that pod (rollout.Undo with the plan of
// rollout.PlanUnstick: UID precondition, the write reported to the
// observer) and returns its verification; nil when nothing is stuck.
func (u *Undo) unstick(ctx context.Context, clients rollout.Clients, v rollout.Verification, o object) (*rollout.StatusResult, error) {
	name := o.workload()
	if err := u.waitObserved(ctx, clients, name); err != nil {
		return nil, err
	}
	plan, err := rollout.PlanUnstick(ctx, clients, name)
	if err != nil || plan == nil {
		return nil, err
	}
	progress.Emit(u.Observer, progress.Event{Time: u.clock().Now(), Kind: progress.Info, Source: source, Target: name,
		Message: fmt.Sprintf("%s: pod %s of the bad revision fails and the StatefulSet waits for it (kubernetes/kubernetes#67250): replacing it", name, plan.ReplaceStuck)})
	// The pod-only plan's own text (pinned to the current revision, forced
	// past the release that is being rolled back) says nothing the line
	// above does not; every other event (the pod's deletion: Written)
	// reaches the observer.
	obs := progress.Func(func(e progress.Event) {
		if e.Kind != progress.Plan {
			progress.Emit(u.Observer, e)
		}
	})
	ud := rollout.Undo{Clients: clients, Verification: v, Observer: obs, Planned: plan, ToRevision: plan.To.Number}
	res, err := ud.Run(ctx, name)
	if res == nil || res.Status == nil {
		if err == nil {
			err = fmt.Errorf("replace the stuck pod %s of %s: no verification", plan.ReplaceStuck, name)
		}
		return nil, err
	}
	return res.Status, nil
}

// waitObserved waits (at most the verification's timeout) until the
// controller of workload name observed its latest generation.
func (u *Undo) waitObserved(ctx context.Context, clients rollout.Clients, name string) error {
	clk := u.clock()
	deadline := clk.Now().Add(u.timeout())
	for {
		w, err := rollout.GetWorkload(ctx, clients, name)
		if err != nil {
			return err
		}
		if w.Observed {
			return nil
		}
		if !clk.Now().Before(deadline) {
			return outcome.AsTimeout(fmt.Errorf("%s: its controller did not observe generation %d within %s", name, w.Generation, u.timeout()))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clk.After(250 * time.Millisecond):
		}
	}
}

// by returns who marks: By, else the operation's name.
func (u *Undo) by(operation string) string {
	if u.By != "" {
		return u.By
	}
	return operation
}

// timeout bounds Helm's rollback hooks: the verification's, else Helm's 5m.
func (u *Undo) timeout() time.Duration {
	if u.Verification.Timeout <= 0 {
		return 5 * time.Minute
	}
	return u.Verification.Timeout
}

func (u *Undo) record(ctx context.Context, e journal.Entry) {
	if u.Journal == nil {
		return
	}
	if _, err := u.Journal.Append(ctx, e); err != nil {
		u.printf("warning: journal %s: %v", e.Action, err)
	}
}

// source is the Source of this package's progress events.
const source = "helm"

func (u *Undo) printf(format string, args ...any) {
	progress.Emit(u.Observer, progress.Event{Time: u.clock().Now(), Kind: progress.Info, Source: source, Message: fmt.Sprintf(format, args...)})
}
