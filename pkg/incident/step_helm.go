package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// helmPlan is what the app step records before it rolls a Helm release back.
type helmPlan struct {
	Release    string              `json:"release"`
	Namespace  string              `json:"namespace"`
	From       int                 `json:"from"`
	To         int                 `json:"to"`
	FromStatus string              `json:"fromStatus"`
	FromChart  string              `json:"fromChart"`
	ToChart    string              `json:"toChart"`
	ToHealth   string              `json:"toHealth"`
	Reason     string              `json:"reason"`
	Pending    *helmtarget.Pending `json:"pending,omitempty"`
	// Workloads are the target revision's workloads (KIND/NAME), verified
	// after the rollback; Deployments are the Deployments among them.
	Workloads   []string            `json:"workloads,omitempty"`
	Deployments []string            `json:"deployments,omitempty"`
	Ownership   []ownership.Verdict `json:"ownership,omitempty"`
}

func helmPlanOf(p *helmtarget.Plan) helmPlan {
	return helmPlan{Release: p.Release, Namespace: p.Namespace, From: p.From.Revision, To: p.To.Revision, FromStatus: p.From.Status, FromChart: p.From.Chart,
		ToChart: p.To.Chart, ToHealth: p.To.Health, Reason: p.Reason, Pending: p.Pending, Workloads: p.Workloads, Deployments: p.Deployments, Ownership: p.Ownership}
}

// errNoReleases refuses a runbook with Helm releases when nothing can reach them.
var errNoReleases = errors.New("the runbook lists Helm releases, and this process cannot roll them back (no rollback-helm program): install rollback-helm next to rollback, or leave the app step out")

// releaseRef names the runbook's release h in cluster c.
func releaseRef(c Cluster, h runbook.HelmRelease) helmtarget.Ref {
	return helmtarget.Ref{Context: c.Context, Namespace: h.NamespaceIn(c.Namespace), Name: h.Name}
}

// helmOptions are the settings of every operation on a release: the run's
// verification and --force, marks by "run".
func (s *session) helmOptions() helmtarget.Options {
	return helmtarget.Options{Force: s.r.Force, Verification: s.r.Verification, MaxHistory: helmtarget.DefaultMaxHistory, By: "run"}
}

// helmTarget rolls release h back in cluster c through Helm's library (in
// the rollback-helm program): journaled like a workload (step.started with
// the plan before Helm's rollback, step.written once it landed,
// step.verifying before the verification), and resumed from the journal: a
// release whose rollback landed before an interruption renders the target's
// manifest and is only verified and marked, never rolled back twice.
func (s *session) helmTarget(ctx context.Context, c Cluster, h runbook.HelmRelease) (StepResult, error) {
	ref := releaseRef(c, h)
	target := s.targetName(c.Context, ref.Target())
	if s.targetDone("app", target) {
		return s.target(ctx, "app", target, c.Context, nil, nil)
	}
	failed := func(err error) (StepResult, error) {
		return StepResult{Step: "app", Target: target, Cluster: c.Context, Verdict: stepFailed, Error: err.Error()}, err
	}
	if s.r.Releases == nil {
		return failed(outcome.AsRefused(errNoReleases))
	}
	o := s.helmOptions()
	pre, err := s.r.Releases.Plan(ctx, ref, o, nil)
	if err != nil && s.ownPendingRollback(target, pre) {
		// This incident's own rollback was interrupted inside Helm: the
		// pending-rollback revision is what the killed process left.
		o.RecoverPending = true
		pre, err = s.r.Releases.Plan(ctx, ref, o, nil)
	}
	if err != nil {
		return failed(fmt.Errorf("plan rollback of helm release %s: %w", h.Name, err))
	}
	rec := helmtarget.RecorderFunc(func(ctx context.Context, e journal.Entry) (journal.Entry, error) {
		e.Step, e.Target = "app", target
		return s.in.Append(ctx, e)
	})
	if pre.Verdict == helmtarget.VerdictSkipped {
		written := len(s.targetWrittenPhases("app", target)) > 0
		return s.target(ctx, "app", target, c.Context, nil, func(obs progress.Observer) (StepResult, error) {
			progress.Emit(obs, progress.Event{Time: s.r.Clock.Now(), Kind: progress.Verifying, Source: "incident", Target: target})
			mg, err := s.r.Releases.MarkGood(ctx, ref, o, obs)
			res := StepResult{Verdict: stepSkipped, Detail: pre.Plan.Reason}
			if written {
				res.Verdict = stepDone
			}
			if mg != nil {
				res.After = map[string]any{"revision": mg.Revision, "marked": mg.Marked}
				res.Detail = fmt.Sprintf("already at revision %d (%s); verified, marked %s", mg.Revision, pre.Plan.Reason, mg.Marked)
				if written {
					res.Detail = fmt.Sprintf("rolled back through Helm before the interruption (now revision %d); verified, marked %s", mg.Revision, mg.Marked)
				}
			}
			return res, err
		})
	}
	p := helmPlanOf(pre.Plan)
	return s.target(ctx, "app", target, c.Context, p, func(obs progress.Observer) (StepResult, error) {
		ur, err := s.r.Releases.Undo(ctx, ref, o, obs, rec)
		res := StepResult{Before: map[string]any{"revision": p.From, "status": p.FromStatus, "chart": p.FromChart}}
		if ur != nil {
			res.Detail = helmtarget.Detail(ur)
			res.After = map[string]any{"revision": ur.NewRevision, "restoredRevision": p.To, "chart": p.ToChart, "verdict": ur.Verdict, "marked": ur.Marked}
			if ur.Verdict == helmtarget.VerdictSkipped {
				res.Verdict = stepSkipped
			}
		}
		return res, err
	})
}

// ownPendingRollback reports whether r was refused over a pending-rollback
// revision that this incident's own rollback of target left: the journal
// shows the target started before the interruption, nothing written, and
// the revision went pending after that.
func (s *session) ownPendingRollback(target string, r *helmtarget.UndoResult) bool {
	if r == nil || r.Plan == nil || r.Plan.Pending == nil || r.Plan.Pending.Status != "pending-rollback" {
		return false
	}
	if len(s.targetWrittenPhases("app", target)) > 0 {
		return false
	}
	var started time.Time
	for _, e := range s.prior {
		if e.Step == "app" && e.Target == target && e.Action == journal.ActionStepStarted {
			started = e.Time
		}
	}
	// A few seconds of slack for the clocks of Helm's client and the journal.
	return !started.IsZero() && !r.Plan.Pending.Since.Before(started.Add(-5*time.Second))
}

// helmOwner returns the Helm release that manages workload w (any kind)
// in c, nil when none does (or the workload does not exist: its undo says
// why).
func helmOwner(ctx context.Context, c Cluster, w rollout.Workload) (*ownership.Owner, error) {
	info, err := rollout.GetWorkload(ctx, rollout.NewClients(c.Client, c.Namespace), w.String())
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", w.Describe(), err)
	}
	return ownership.HelmReleaseOf(string(info.Kind), info.Object), nil
}

// throughRelease decides the app step of a workload a Helm release
// manages: through is the release's target when the runbook lists it (the
// workload is rolled back through it, never patched); otherwise, unless
// --force, the refusal of `rollback app undo`, naming the release to list.
func (s *session) throughRelease(c Cluster, w rollout.Workload, o *ownership.Owner) (through string, err error) {
	if h, ok := s.r.Runbook.HelmReleaseOf(o.Name, o.Namespace, c.Namespace); ok {
		return s.targetName(c.Context, releaseRef(c, h).Target()), nil
	}
	if s.r.Force {
		return "", nil
	}
	v := ownership.Verdict{Kind: string(w.Kind), Name: w.Name, Namespace: c.Namespace, Owners: []ownership.Owner{*o}}
	entry := "- name: " + o.Name
	if o.Namespace != c.Namespace {
		entry += ", namespace: " + o.Namespace
	}
	return "", fmt.Errorf("%w; or list the release in the runbook's helmReleases (%s), so that rollback run rolls the %s back through it", v.Refusal(), entry, w.Kind.Lower())
}

// delegated is the app step's result for a workload rolled back through
// its Helm release's target through.
func delegated(o *ownership.Owner, through string) string {
	return fmt.Sprintf("belongs to Helm release %s: rolled back through %s, not patched", o.Name, through)
}
