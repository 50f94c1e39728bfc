package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// Undo rolls one workload (Deployment, StatefulSet, DaemonSet) back to a
// known-good revision, then watches and verifies the rollout with the same
// code as Status.
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
	// Force rolls back a workload that an owner (operator, Argo CD,
	// Flux, a Helm release) manages; the result says what drift that leaves.
	Force bool
	// ReplacePods replaces, one at a time and each after the one before is
	// Ready, the pods an OnDelete strategy keeps at other revisions; without
	// it the undo of such a workload is refused.
	ReplacePods bool
	// NoReplaceStuck leaves in place the failing pod of another revision
	// that an OrderedReady StatefulSet waits for instead of replacing it
	// (kubernetes/kubernetes#67250); by default the undo deletes it.
	NoReplaceStuck bool
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
	// preconditions still refuse it when the workload changed since.
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

// UndoResult is the outcome of an undo of one workload.
type UndoResult struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Deployment is the name again for a Deployment (the key scripts
	// written before StatefulSets and DaemonSets read).
	Deployment   string  `json:"deployment,omitempty"`
	Namespace    string  `json:"namespace"`
	Verdict      Verdict `json:"verdict"`
	FromRevision int64   `json:"fromRevision"`
	ToRevision   int64   `json:"toRevision"`
	// NewRevision is the number the controller gave the target revision
	// when it rolled it out again.
	NewRevision  int64         `json:"newRevision,omitempty"`
	ImagesBefore []string      `json:"imagesBefore"`
	ImagesAfter  []string      `json:"imagesAfter"`
	Reason       string        `json:"reason,omitempty"`
	Diff         *TemplateDiff `json:"diff,omitempty"`
	Warnings     []string      `json:"warnings,omitempty"`
	// Ownership is the ownership check of the plan: who else manages the
	// workload and whether it would revert the undo.
	Ownership *ownership.Verdict `json:"ownership,omitempty"`
	// Missing is what the target needed that did not exist (a refusal).
	Missing           []podrefs.Missing `json:"missing,omitempty"`
	ConcurrentChanges []string          `json:"concurrentChanges,omitempty"`
	// ReplacePods and ReplaceStuck are the pods the plan replaces (see
	// Plan); PodsOnly says the template was already the target's.
	ReplacePods  []string `json:"replacePods,omitempty"`
	ReplaceStuck string   `json:"replaceStuck,omitempty"`
	PodsOnly     bool     `json:"podsOnly,omitempty"`
	// ReplacedPods are the pods the undo deleted so that their controller
	// recreates them at the target revision (a stuck StatefulSet, OnDelete).
	ReplacedPods []PodReplacement `json:"replacedPods,omitempty"`
	Status       *StatusResult    `json:"status,omitempty"`
	Error        string           `json:"error,omitempty"`
	Durations    UndoDurations    `json:"durations"`

	plan *Plan
}

// Run undoes workload (kubectl's resource syntax: web, deployment/web,
// sts/db, ds/agent): read, plan (refusing what is unsafe), confirm, write
// with a precondition on what was read (re-reading and re-planning when
// someone else changed the workload in between), then watch and verify,
// replacing the pods its controller will not (a stuck StatefulSet, an
// OnDelete strategy with ReplacePods). The error carries the exit code.
func (u *Undo) Run(ctx context.Context, workload string) (*UndoResult, error) {
	clk := u.clock()
	start := clk.Now()
	res := &UndoResult{Verdict: VerdictError}
	w, err := ParseWorkload(workload)
	if err == nil {
		err = u.Clients.supports(w.Kind)
	}
	if err != nil {
		res.Error = err.Error()
		res.Verdict = VerdictRefused
		return res, err
	}
	res.Kind, res.Name, res.Deployment = w.Kind, w.Name, deploymentName(w)
	label := w.Arg()
	emit := func(kind progress.Kind, msg string, data any) {
		progress.Emit(u.Observer, progress.Event{Time: clk.Now(), Kind: kind, Source: source, Target: w.String(), Message: msg, Data: data})
	}
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
	if plan == nil || plan.Kind != w.Kind || plan.Name != w.Name {
		plan, err = u.read(ctx, w)
	}
	res.Durations.Plan = Duration(clk.Now().Sub(start))
	fill(res, plan)
	if err != nil {
		return finish(err)
	}
	for attempt := 0; ; attempt++ {
		if plan.Skip {
			res.Verdict = VerdictSkipped
			emit(progress.Info, fmt.Sprintf("%s: skipped: already at %s", label, plan.Reason), nil)
			for _, warn := range plan.Warnings {
				emit(progress.Warning, "warning: "+warn, nil)
			}
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
		if plan.PodsOnly {
			break
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
		before, writeErr := plan.obj, err
		plan, err = u.read(ctx, w)
		fill(res, plan)
		if err != nil {
			return finish(fmt.Errorf("re-plan after a concurrent change: %w", err))
		}
		if stillSame(before, plan.obj) && !apierrors.IsConflict(writeErr) {
			return finish(writeError(writeErr, plan))
		}
		changes := describeChange(before, plan.obj)
		res.ConcurrentChanges = append(res.ConcurrentChanges, changes...)
		emit(progress.Warning, fmt.Sprintf("%s: the %s changed after rollback read it (resourceVersion %s -> %s); re-read and re-planned. What changed:", label, w.Kind.Lower(), before.meta().ResourceVersion, plan.ResourceVersion), nil)
		for _, c := range changes {
			emit(progress.Warning, "  "+c, nil)
		}
	}
	if plan.PodsOnly {
		emit(progress.Info, fmt.Sprintf("%s: already at revision %d; replacing the pods its controller does not replace; watching the rollout", label, plan.To.Number), nil)
	} else {
		emit(progress.Written, fmt.Sprintf("%s: rolled back to revision %d; watching the rollout", label, plan.To.Number), plan.To)
	}
	emit(progress.Verifying, "", nil)
	m := u.monitor()
	sres := u.status().watchOne(ctx, plan.obj, m)
	res.Status = sres
	res.NewRevision = sres.Revision
	res.Verdict = sres.Verdict
	res.ReplacedPods = sres.Replaced
	res.Durations.Rollout, res.Durations.Settle, res.Durations.Checks = sres.Durations.Rollout, sres.Durations.Settle, sres.Durations.Checks
	if sres.Verdict != VerdictHealthy {
		res.Reason = sres.Reason
	}
	return finish(sres.Err())
}

// monitor returns the watch engine of an undo: Status's, replacing the pods
// the controller does not.
func (u *Undo) monitor() *monitor {
	m := u.status().monitor("undo")
	m.replaceStuck, m.replacePods = !u.NoReplaceStuck, u.ReplacePods
	return m
}

func (u *Undo) clock() clock.WithTicker { return u.Verification.clock() }

// status returns the Status whose watch engine the undo uses.
func (u *Undo) status() *Status {
	return &Status{Clients: u.Clients, Verification: u.Verification, Observer: u.Observer}
}

// read gets the workload and its revisions (and pods) and plans the undo.
func (u *Undo) read(ctx context.Context, w Workload) (*Plan, error) {
	o, err := get(ctx, u.Clients, w)
	if err != nil {
		return nil, err
	}
	return readPlan(ctx, u.Clients, o, u.planOptions(u.Clients, o.meta().Namespace, nil))
}

// planOptions are the plan options of an undo with clients in namespace;
// start, when set, is the start check to share (a bulk undo's namespace).
func (u *Undo) planOptions(c Clients, namespace string, start *podrefs.Checker) PlanOptions {
	if start == nil {
		start = c.startChecker(namespace, u.Snapshots)
	}
	return PlanOptions{ToRevision: u.ToRevision, Force: u.Force, ReplacePods: u.ReplacePods, NoReplaceStuck: u.NoReplaceStuck,
		Owners: ownership.Checker{Applications: c.Applications}, Start: start}
}

// fill copies what the plan knows into the result.
func fill(res *UndoResult, p *Plan) {
	if p == nil {
		return
	}
	res.plan = p
	res.Kind, res.Name, res.Deployment, res.Namespace = p.Kind, p.Name, p.Deployment, p.Namespace
	if p.From != nil {
		res.FromRevision, res.ImagesBefore = p.From.Number, p.From.Images
	} else if p.obj.valid() {
		res.FromRevision, res.ImagesBefore = 0, templateImages(p.obj.template())
	}
	if p.To != nil {
		res.ToRevision, res.ImagesAfter = p.To.Number, p.To.Images
	}
	res.Reason = p.Reason
	res.Warnings = p.Warnings
	res.ReplacePods, res.ReplaceStuck, res.PodsOnly = p.ReplacePods, p.ReplaceStuck, p.PodsOnly
	res.Ownership, res.Missing = p.Ownership, p.Missing
}

// undoPatch returns the JSON patch that puts the target's template on the
// workload (and, for a Deployment, kubectl's annotations). Its first
// operations are preconditions: the generation (which changes with every
// spec change) and the annotations must still be those that were read, so
// a concurrent writer makes the patch fail instead of being overwritten,
// while the controller's status updates do not.
func undoPatch(p *Plan) ([]byte, error) {
	tmpl, ann := p.undoTemplate()
	m := p.obj.meta()
	// No annotations at all tests as null (a missing value).
	var readAnn any
	if m.Annotations != nil {
		readAnn = m.Annotations
	}
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": m.Generation},
		{"op": "test", "path": "/metadata/annotations", "value": readAnn},
		{"op": "replace", "path": "/spec/template", "value": tmpl},
	}
	if ann != nil {
		ops = append(ops, map[string]any{"op": "replace", "path": "/metadata/annotations", "value": ann})
	}
	return json.Marshal(ops)
}

// isConcurrentChange reports whether a write may have failed because the
// workload changed since it was read: a 409 Conflict, or a 422 that a
// failed JSON patch test also gives (stillSame tells the two 422s apart).
func isConcurrentChange(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsInvalid(err)
}

// stillSame reports whether the preconditions of a plan made from before
// still hold for after: then a 422 was a real error, not a concurrent change.
func stillSame(before, after object) bool {
	b, a := before.meta(), after.meta()
	return b.Generation == a.Generation && apiequality.Semantic.DeepEqual(b.Annotations, a.Annotations)
}

// writeUndo applies the plan and returns the workload's generation after it.
func writeUndo(ctx context.Context, c Clients, p *Plan) (int64, error) {
	patch, err := undoPatch(p)
	if err != nil {
		return 0, fmt.Errorf("build patch for %s: %w", p.Workload().Describe(), err)
	}
	info, err := PatchWorkload(ctx, c, p.Workload(), types.JSONPatchType, patch)
	if err != nil {
		return 0, err
	}
	return info.Generation, nil
}

// keptChanging explains giving up after maxConflicts concurrent changes.
func keptChanging(err error, p *Plan) error {
	return fmt.Errorf("patch %s %s/%s: it kept changing while rollback planned (%d attempts); nothing was rolled back, try again: %w", p.Kind.Lower(), p.Namespace, p.Name, maxConflicts, err)
}

// writeError explains a failed write.
func writeError(err error, p *Plan) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("patch %s %s/%s: permission denied, nothing changed; an identity that may patch %s in namespace %s (e.g. the edit role) is needed: %w", p.Kind.Lower(), p.Namespace, p.Name, p.Kind.Resource(), p.Namespace, err)
	}
	return fmt.Errorf("patch %s %s/%s: %w", p.Kind.Lower(), p.Namespace, p.Name, err)
}

// imagesString joins images for one-line output.
func imagesString(images []string) string {
	if len(images) == 0 {
		return "-"
	}
	return strings.Join(images, ",")
}

// PlanUnstick returns the plan that replaces the failing pod of another
// revision an OrderedReady StatefulSet waits for while its template is
// already its current revision's (kubernetes/kubernetes#67250): what a
// rollback that wrote the template by other means leaves (`kubectl rollout
// undo`, Helm's rollback, a leader that died before it replaced the pod).
// It is nil for any other workload and when nothing is stuck. Carry it out
// with Undo{Planned: plan, ToRevision: plan.To.Number}, which replaces the
// pod (UID precondition, journaled through the observer) and verifies.
func PlanUnstick(ctx context.Context, c Clients, workload string) (*Plan, error) {
	w, err := ParseWorkload(workload)
	if err != nil || w.Kind != KindStatefulSet {
		return nil, err
	}
	_, cur, err := ReadCurrent(ctx, c, workload)
	if err != nil || cur == nil {
		return nil, err
	}
	// A plan pinned to the current revision never writes the template, so
	// an owner that manages the template (the Helm release that rolled it
	// back) has nothing to revert: Force skips the ownership refusal.
	u := Undo{Clients: c, ToRevision: cur.Number, Force: true}
	p, err := u.read(ctx, w)
	if err != nil || !p.PodsOnly || p.ReplaceStuck == "" || p.To == nil || p.To.Number != cur.Number {
		return nil, err
	}
	return p, nil
}
