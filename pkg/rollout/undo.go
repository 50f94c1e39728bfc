package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
	"github.com/vibestack/rollback/pkg/progress"
)

// maxConflicts is how many times an undo re-reads and re-plans after a
// concurrent change before it gives up.
const maxConflicts = 3

// Undo rolls one Deployment back to a known-good revision, then watches and
// verifies the rollout with the same code as Status.
type Undo struct {
	Clients Clients
	// Verification says how the rollout is watched and verified.
	Verification Verification
	// Observer receives the plan and the progress as events; nil discards them.
	Observer progress.Observer
	// ToRevision is the target revision; 0 means the last known good one.
	ToRevision int64
	// DryRun prints the plan and the template diff and changes nothing.
	DryRun bool
	// Force rolls back a Deployment that an owner (operator, Argo CD,
	// Flux, a Helm release) manages; the result says what drift that leaves.
	Force bool
	// Snapshots names the config snapshot that brings back a missing
	// ConfigMap, Secret or key in a refusal; nil names none.
	Snapshots podrefs.SnapshotFinder
	// Confirm is asked before the write with the plan; nil means yes. An
	// error from it (e.g. "no terminal") ends the undo as a refusal.
	Confirm func(*Plan) (bool, error)
	// BeforeWrite, when set, runs between the read and the first write.
	BeforeWrite func()
	// Planned, when set, is the plan of an earlier read (Undo.Plan) that
	// the first write uses instead of reading again; the write's
	// preconditions still refuse it when the Deployment changed since.
	Planned *Plan
}

// Plan returns the plan the undo made (a dry run's plan, which a single
// command checks before it records anything and then hands to Run as
// Undo.Planned); nil when it could not plan.
func (r *UndoResult) Plan() *Plan { return r.plan }

// UndoDurations are the durations of the phases of an undo.
type UndoDurations struct {
	Plan    Duration `json:"plan"`
	Write   Duration `json:"write"`
	Rollout Duration `json:"rollout"`
	Settle  Duration `json:"settle"`
	Checks  Duration `json:"checks"`
	Total   Duration `json:"total"`
}

// UndoResult is the outcome of an undo of one Deployment.
type UndoResult struct {
	Deployment   string  `json:"deployment"`
	Namespace    string  `json:"namespace"`
	Verdict      Verdict `json:"verdict"`
	FromRevision int64   `json:"fromRevision"`
	ToRevision   int64   `json:"toRevision"`
	// NewRevision is the number the Deployment controller gave the target
	// revision when it rolled it out again.
	NewRevision  int64         `json:"newRevision,omitempty"`
	ImagesBefore []string      `json:"imagesBefore"`
	ImagesAfter  []string      `json:"imagesAfter"`
	Reason       string        `json:"reason,omitempty"`
	Diff         *TemplateDiff `json:"diff,omitempty"`
	Warnings     []string      `json:"warnings,omitempty"`
	// Ownership is the ownership check of the plan: who else manages the
	// Deployment and whether it would revert the undo.
	Ownership *ownership.Verdict `json:"ownership,omitempty"`
	// Missing is what the target needed that did not exist (a refusal).
	Missing           []podrefs.Missing `json:"missing,omitempty"`
	ConcurrentChanges []string          `json:"concurrentChanges,omitempty"`
	Status            *StatusResult     `json:"status,omitempty"`
	Error             string            `json:"error,omitempty"`
	Durations         UndoDurations     `json:"durations"`

	plan *Plan
}

// Run undoes deployment: read, plan (refusing what is unsafe), confirm,
// write with a precondition on what was read (re-reading and re-planning
// when someone else changed the Deployment in between), then watch and
// verify. The error carries the exit code.
func (u *Undo) Run(ctx context.Context, deployment string) (*UndoResult, error) {
	clk := u.clock()
	start := clk.Now()
	target := "deployment/" + deployment
	emit := func(kind progress.Kind, msg string, data any) {
		progress.Emit(u.Observer, progress.Event{Time: clk.Now(), Kind: kind, Source: source, Target: target, Message: msg, Data: data})
	}
	res := &UndoResult{Deployment: deployment, Verdict: VerdictError}
	finish := func(err error) (*UndoResult, error) {
		res.Durations.Total = Duration(clk.Now().Sub(start))
		if err != nil {
			res.Error = err.Error()
			if res.Verdict == VerdictError && outcome.KindOf(err) == outcome.Refused {
				res.Verdict = VerdictRefused
			}
		}
		return res, err
	}
	plan, err := u.Planned, error(nil)
	if plan == nil || plan.Deployment != deployment {
		plan, err = u.read(ctx, deployment)
	}
	res.Durations.Plan = Duration(clk.Now().Sub(start))
	fill(res, plan)
	if err != nil {
		return finish(err)
	}
	for attempt := 0; ; attempt++ {
		if plan.Skip {
			res.Verdict = VerdictSkipped
			emit(progress.Info, fmt.Sprintf("%s: skipped: already at %s", deployment, plan.Reason), nil)
			return finish(nil)
		}
		emit(progress.Plan, plan.Summary(), plan)
		if u.DryRun {
			res.Verdict = VerdictDryRun
			res.Diff = &plan.Diff
			emit(progress.Info, "dry run: nothing changed", nil)
			return finish(nil)
		}
		if u.Confirm != nil {
			ok, err := u.Confirm(plan)
			if err != nil {
				return finish(outcome.AsRefused(err))
			}
			if !ok {
				res.Verdict = VerdictCancelled
				return finish(outcome.AsRefused(errors.New("cancelled at the prompt; nothing changed")))
			}
		}
		if attempt == 0 && u.BeforeWrite != nil {
			u.BeforeWrite()
		}
		writeStart := clk.Now()
		_, err := writeUndo(ctx, u.Clients, plan)
		res.Durations.Write += Duration(clk.Now().Sub(writeStart))
		if err == nil {
			break
		}
		if !isConcurrentChange(err) {
			return finish(writeError(err, plan))
		}
		if attempt+1 >= maxConflicts {
			return finish(keptChanging(err, plan))
		}
		before, writeErr := plan.deployment, err
		plan, err = u.read(ctx, deployment)
		fill(res, plan)
		if err != nil {
			return finish(fmt.Errorf("re-plan after a concurrent change: %w", err))
		}
		if stillSame(before, plan.deployment) && !apierrors.IsConflict(writeErr) {
			return finish(writeError(writeErr, plan))
		}
		changes := describeChange(before, plan.deployment)
		res.ConcurrentChanges = append(res.ConcurrentChanges, changes...)
		emit(progress.Warning, fmt.Sprintf("%s: the deployment changed after rollback read it (resourceVersion %s -> %s); re-read and re-planned. What changed:", deployment, before.ResourceVersion, plan.ResourceVersion), nil)
		for _, c := range changes {
			emit(progress.Warning, "  "+c, nil)
		}
	}
	emit(progress.Written, fmt.Sprintf("%s: rolled back to revision %d; watching the rollout", deployment, plan.To.Number), plan.To)
	emit(progress.Verifying, "", nil)
	m := u.status().monitor("undo")
	sres := m.run(ctx, watchScope{
		deployFields: fields.OneTermEqualSelector("metadata.name", deployment).String(),
		podLabels:    selectorString(plan.deployment),
	}, []string{deployment})[deployment]
	sres.Namespace = plan.Namespace
	res.Status = sres
	res.NewRevision = sres.Revision
	res.Verdict = sres.Verdict
	res.Durations.Rollout, res.Durations.Settle, res.Durations.Checks = sres.Durations.Rollout, sres.Durations.Settle, sres.Durations.Checks
	if sres.Verdict != VerdictHealthy {
		res.Reason = sres.Reason
	}
	return finish(sres.Err())
}

func (u *Undo) clock() clock.WithTicker { return u.Verification.clock() }

// status returns the Status whose watch engine the undo uses.
func (u *Undo) status() *Status {
	return &Status{Clients: u.Clients, Verification: u.Verification, Observer: u.Observer}
}

// read gets the Deployment and its ReplicaSets and plans the undo.
func (u *Undo) read(ctx context.Context, name string) (*Plan, error) {
	d, err := u.Clients.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, getError(err, "deployment", name)
	}
	rss, err := u.Clients.ReplicaSets.List(ctx, metav1.ListOptions{LabelSelector: selectorString(d)})
	if err != nil {
		return nil, fmt.Errorf("list replicasets of deployment %s: %w", name, err)
	}
	return PlanUndo(ctx, d, rss.Items, u.planOptions(u.Clients, d.Namespace, nil))
}

// planOptions are the plan options of an undo with clients in namespace;
// start, when set, is the start check to share (a bulk undo's namespace).
func (u *Undo) planOptions(c Clients, namespace string, start *podrefs.Checker) PlanOptions {
	if start == nil {
		start = c.startChecker(namespace, u.Snapshots)
	}
	return PlanOptions{ToRevision: u.ToRevision, Force: u.Force, Owners: ownership.Checker{Applications: c.Applications}, Start: start}
}

// fill copies what the plan knows into the result.
func fill(res *UndoResult, p *Plan) {
	if p == nil {
		return
	}
	res.plan = p
	res.Namespace = p.Namespace
	if p.From != nil {
		res.FromRevision, res.ImagesBefore = p.From.Number, p.From.Images
	} else if p.deployment != nil {
		res.FromRevision, res.ImagesBefore = 0, templateImages(&p.deployment.Spec.Template)
	}
	if p.To != nil {
		res.ToRevision, res.ImagesAfter = p.To.Number, p.To.Images
	}
	res.Reason = p.Reason
	res.Warnings = p.Warnings
	res.Ownership, res.Missing = p.Ownership, p.Missing
}

// undoPatch returns the JSON patch that puts the target's template on the
// Deployment. Its first operations are preconditions: the generation (which
// changes with every spec change) and the annotations must still be those
// that were read, so a concurrent writer makes the patch fail instead of
// being overwritten, while the controller's status updates do not.
func undoPatch(p *Plan) ([]byte, error) {
	tmpl, ann := p.undoTemplate()
	readAnn := p.deployment.Annotations
	if readAnn == nil {
		readAnn = map[string]string{}
	}
	return json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": p.deployment.Generation},
		{"op": "test", "path": "/metadata/annotations", "value": readAnn},
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": "replace", "path": "/metadata/annotations", "value": ann},
	})
}

// isConcurrentChange reports whether a write may have failed because the
// Deployment changed since it was read: a 409 Conflict, or a 422 that a
// failed JSON patch test also gives (stillSame tells the two 422s apart).
func isConcurrentChange(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsInvalid(err)
}

// stillSame reports whether the preconditions of a plan made from before
// still hold for after: then a 422 was a real error, not a concurrent change.
func stillSame(before, after *appsv1.Deployment) bool {
	return before.Generation == after.Generation && apiequality.Semantic.DeepEqual(before.Annotations, after.Annotations)
}

// writeUndo applies the plan.
func writeUndo(ctx context.Context, c Clients, p *Plan) (*appsv1.Deployment, error) {
	patch, err := undoPatch(p)
	if err != nil {
		return nil, fmt.Errorf("build patch for deployment %s: %w", p.Deployment, err)
	}
	return c.Deployments.Patch(ctx, p.Deployment, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
}

// keptChanging explains giving up after maxConflicts concurrent changes.
func keptChanging(err error, p *Plan) error {
	return fmt.Errorf("patch deployment %s/%s: it kept changing while rollback planned (%d attempts); nothing was rolled back, try again: %w", p.Namespace, p.Deployment, maxConflicts, err)
}

// writeError explains a failed write.
func writeError(err error, p *Plan) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("patch deployment %s/%s: permission denied, nothing changed; an identity that may patch deployments in namespace %s (e.g. the edit role) is needed: %w", p.Namespace, p.Deployment, p.Namespace, err)
	}
	return fmt.Errorf("patch deployment %s/%s: %w", p.Namespace, p.Deployment, err)
}

// imagesString joins images for one-line output.
func imagesString(images []string) string {
	if len(images) == 0 {
		return "-"
	}
	return strings.Join(images, ",")
}
