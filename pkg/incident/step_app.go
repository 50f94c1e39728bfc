package incident

import (
	"context"
	"fmt"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// appPlan is what the app step records before it writes.
type appPlan struct {
	From         int64    `json:"from"`
	To           int64    `json:"to"`
	ImagesBefore []string `json:"imagesBefore"`
	ImagesAfter  []string `json:"imagesAfter"`
}

// appStep rolls every Deployment back to its last known good revision with
// rollout.Undo, in every cluster.
func (s *session) appStep(ctx context.Context) ([]StepResult, error) {
	var out []StepResult
	for _, c := range s.r.Clusters {
		for _, name := range s.r.Runbook.Deployments {
			res, err := s.appTarget(ctx, c, name)
			out = append(out, res)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// undo is the undo of one Deployment in cluster c, reporting to obs.
func (s *session) undo(c Cluster, obs progress.Observer) rollout.Undo {
	return rollout.Undo{Clients: rollout.NewClients(c.Client, c.Namespace), Verification: s.r.Verification, Observer: obs, Force: s.r.Force}
}

func (s *session) appTarget(ctx context.Context, c Cluster, name string) (StepResult, error) {
	target := s.targetName(c.Context, "deployment/"+name)
	if s.targetDone("app", target) {
		return s.target(ctx, "app", target, c.Context, nil, nil)
	}
	dry := s.undo(c, nil)
	dry.DryRun = true
	plan, err := dry.Run(ctx, name)
	if err != nil {
		return StepResult{Step: "app", Target: target, Cluster: c.Context, Verdict: stepFailed, Error: err.Error()}, fmt.Errorf("plan rollback of deployment %s: %w", name, err)
	}
	if plan.Verdict == rollout.VerdictSkipped {
		// Already at the last known good revision: a resume after the
		// write, or nothing to undo. Verify it instead of rolling back.
		written := len(s.targetWrittenPhases("app", target)) > 0
		return s.target(ctx, "app", target, c.Context, nil, func(obs progress.Observer) (StepResult, error) {
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
	p := appPlan{From: plan.FromRevision, To: plan.ToRevision, ImagesBefore: plan.ImagesBefore, ImagesAfter: plan.ImagesAfter}
	return s.target(ctx, "app", target, c.Context, p, func(obs progress.Observer) (StepResult, error) {
		// The same target choice as the plan (the last known good
		// revision); the plan is journaled, the undo re-plans on conflicts.
		u := s.undo(c, obs)
		ur, err := u.Run(ctx, name)
		res := StepResult{Before: map[string]any{"revision": p.From, "images": p.ImagesBefore}}
		if ur != nil {
			res.After = map[string]any{"revision": ur.NewRevision, "restoredRevision": ur.ToRevision, "images": ur.ImagesAfter, "verdict": ur.Verdict}
			res.Detail = fmt.Sprintf("revision %d -> %d (%s), %s", p.From, p.To, imagesText(ur.ImagesAfter), ur.Verdict)
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
