package incident

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// appPlan is what the app step records before it writes.
type appPlan struct {
	From         int64    `json:"from"`
	To           int64    `json:"to"`
	ImagesBefore []string `json:"imagesBefore"`
	ImagesAfter  []string `json:"imagesAfter"`
	// Ownership is the plan's ownership check (who else manages the workload).
	Ownership *ownership.Verdict `json:"ownership,omitempty"`
	// ReplacePods and ReplaceStuck are the pods the undo replaces.
	ReplacePods  []string `json:"replacePods,omitempty"`
	ReplaceStuck string   `json:"replaceStuck,omitempty"`
}

// appStep rolls every workload of the runbook (Deployments, StatefulSets,
// DaemonSets) back to its last known good revision with rollout.Undo, and
// every Helm release through Helm (helmTarget), in every cluster, all at
// once: their rollouts and settle windows run concurrently, never one
// after another. A Deployment of a listed release is rolled back through
// it. With mergeConfig the configuration is restored first, so that each
// workload rolls out once.
func (s *session) appStep(ctx context.Context) ([]StepResult, error) {
	if s.mergeConfig() {
		if err := s.restoreConfigsForApp(ctx); err != nil {
			return nil, err
		}
	}
	var jobs []func() (StepResult, error)
	for _, c := range s.r.Clusters {
		for _, w := range s.workloads() {
			jobs = append(jobs, func() (StepResult, error) { return s.appTarget(ctx, c, w) })
		}
		for _, h := range s.r.Runbook.HelmReleases {
			jobs = append(jobs, func() (StepResult, error) { return s.helmTarget(ctx, c, h) })
		}
	}
	out := make([]StepResult, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = j()
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// workloads are the runbook's workloads, as rollout names them.
func (s *session) workloads() []rollout.Workload {
	var out []rollout.Workload
	for _, w := range s.r.Runbook.Workloads() {
		out = append(out, rollout.Workload{Kind: rollout.Kind(w.Kind), Name: w.Name})
	}
	return out
}

// undo is the undo of one workload in cluster c, reporting to obs.
func (s *session) undo(c Cluster, obs progress.Observer) rollout.Undo {
	return rollout.Undo{Clients: rollout.NewClients(c.Client, c.Namespace), Verification: s.r.Verification, Observer: obs, Force: s.r.Force,
		ReplacePods: s.r.ReplacePods, NoReplaceStuck: s.r.NoReplaceStuck, Snapshots: configs.SnapshotFinder{Client: c.Client}}
}

func (s *session) appTarget(ctx context.Context, c Cluster, w rollout.Workload) (StepResult, error) {
	name := w.String()
	target := s.targetName(c.Context, name)
	if s.targetDone("app", target) {
		return s.target(ctx, "app", target, c.Context, nil, nil)
	}
	var owner *ownership.Owner
	var err error
	owner, err = helmOwner(ctx, c, w)
	if err == nil && owner != nil {
		var through string
		if through, err = s.throughRelease(c, w, owner); err == nil && through != "" {
			return s.target(ctx, "app", target, c.Context, map[string]any{"through": through}, func(progress.Observer) (StepResult, error) {
				return StepResult{Verdict: stepSkipped, Detail: delegated(owner, through)}, nil
			})
		}
	}
	if err != nil {
		return StepResult{Step: "app", Target: target, Cluster: c.Context, Verdict: stepFailed, Error: err.Error()}, fmt.Errorf("%s: %w", w.Describe(), err)
	}
	dry := s.undo(c, nil)
	dry.DryRun = true
	plan, err := dry.Run(ctx, name)
	if err != nil {
		return StepResult{Step: "app", Target: target, Cluster: c.Context, Verdict: stepFailed, Error: err.Error()}, fmt.Errorf("plan rollback of %s: %w", w.Describe(), err)
	}
	if plan.Verdict == rollout.VerdictSkipped {
		// Already at the last known good revision: a resume after the
		// write, or nothing to undo. Verify it instead of rolling back;
		// when its configuration was restored for this rollout, restart it
		// first so that its pods pick the configuration up.
		written := len(s.targetWrittenPhases("app", target)) > 0
		restart, err := s.needsRollout(ctx, c, w)
		if err != nil {
			return StepResult{Step: "app", Target: target, Cluster: c.Context, Verdict: stepFailed, Error: err.Error()}, err
		}
		return s.target(ctx, "app", target, c.Context, nil, func(obs progress.Observer) (StepResult, error) {
			if restart && !written {
				if _, err := rollout.RestartWorkload(ctx, rollout.NewClients(c.Client, c.Namespace), name, s.r.Clock.Now()); err != nil {
					return StepResult{}, err
				}
				written = true
				progress.Emit(obs, progress.Event{Time: s.r.Clock.Now(), Kind: progress.Written, Source: "incident", Target: target,
					Message: fmt.Sprintf("%s: restarted so that its pods pick up the restored configuration", w.Arg())})
			}
			st := rollout.Status{Clients: rollout.NewClients(c.Client, c.Namespace), Verification: s.r.Verification, Observer: obs}
			progress.Emit(obs, progress.Event{Time: s.r.Clock.Now(), Kind: progress.Verifying, Source: "incident", Target: target})
			sr, err := st.Run(ctx, name)
			res := StepResult{Verdict: stepSkipped, Detail: plan.Reason}
			if written {
				res.Verdict = stepDone
			}
			if sr != nil {
				res.After = map[string]any{"revision": sr.Revision, "images": sr.Images, "verdict": sr.Verdict}
				res.Detail = fmt.Sprintf("already at revision %d (%s); verified %s", sr.Revision, plan.Reason, sr.Verdict)
				if written {
					res.Detail = fmt.Sprintf("rolled back to revision %d before the interruption; verified %s", sr.Revision, sr.Verdict)
				}
			}
			return res, err
		})
	}
	p := appPlan{From: plan.FromRevision, To: plan.ToRevision, ImagesBefore: plan.ImagesBefore, ImagesAfter: plan.ImagesAfter, Ownership: plan.Ownership,
		ReplacePods: plan.ReplacePods, ReplaceStuck: plan.ReplaceStuck}
	return s.target(ctx, "app", target, c.Context, p, func(obs progress.Observer) (StepResult, error) {
		// The same target choice as the plan (the last known good
		// revision); the plan is journaled, the undo re-plans on conflicts.
		u := s.undo(c, obs)
		ur, err := u.Run(ctx, name)
		res := StepResult{Before: map[string]any{"revision": p.From, "images": p.ImagesBefore}}
		if ur != nil {
			res.After = map[string]any{"revision": ur.NewRevision, "restoredRevision": ur.ToRevision, "images": ur.ImagesAfter, "verdict": ur.Verdict}
			res.Detail = fmt.Sprintf("revision %d -> %d (%s), %s", p.From, p.To, imagesText(ur.ImagesAfter), ur.Verdict)
			if len(ur.ReplacedPods) > 0 {
				res.After["replacedPods"] = ur.ReplacedPods
				res.Detail += fmt.Sprintf(", replaced %s", replacedText(ur.ReplacedPods))
			}
			if ur.Verdict == rollout.VerdictSkipped {
				res.Verdict = stepSkipped
			}
		}
		return res, err
	})
}

func imagesText(images []string) string {
	if len(images) == 0 {
		return "no images"
	}
	out := images[0]
	for _, i := range images[1:] {
		out += ", " + i
	}
	return out
}

// replacedText lists the pods an undo replaced.
func replacedText(pods []rollout.PodReplacement) string {
	out := ""
	for i, p := range pods {
		if i > 0 {
			out += ", "
		}
		out += "pod " + p.Pod
	}
	return out
}
