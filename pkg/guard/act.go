package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
)

// notifyWait bounds the wait for the notification of a passed release.
const notifyWait = 20 * time.Second

// stampBy is the known-good-by value of guard's stamps.
const stampBy = "guard"

func (r *run) app() string {
	if r.g.App != "" {
		return r.g.App
	}
	return r.name
}

func (r *run) target() string { return r.w.String() }

// good stamps the guarded revision known-good and reports success.
func (r *run) good(ctx context.Context, warning string) (*Result, error) {
	res := r.res
	res.Verdict = VerdictPassed
	if warning != "" {
		res.Warnings = append(res.Warnings, warning)
		r.emit(progress.Warning, "warning: "+warning, nil)
	}
	if r.ref.Object == "" {
		res.Verdict, res.Reason = VerdictFailed, "the guarded revision is not known, so it cannot be stamped"
		return res, fmt.Errorf("guard %s: the release passed its bake but %s", r.w.Describe(), res.Reason)
	}
	if err := rollout.StampGood(ctx, r.g.Clients, r.ref, stampBy, r.clk.Now()); err != nil {
		res.Verdict, res.Reason = VerdictFailed, err.Error()
		return res, fmt.Errorf("guard %s: the release passed its bake but %w", r.w.Describe(), err)
	}
	how := fmt.Sprintf("passed its %s bake", r.g.Bake)
	if warning != "" {
		how = "was accepted on an inconclusive analysis"
	}
	r.printf("%s: revision %d %s (%d rounds passed, %d failed, %d inconclusive); stamped known-good",
		r.name, res.Revision, how, res.Rounds.Passed, res.Rounds.Failed, res.Rounds.Inconclusive)
	r.markRelease(ctx, true, "")
	if n := r.g.Notify; n != nil {
		n.Send(r.event(notify.KindSucceeded, fmt.Sprintf("%s revision %d passed its bake and is known-good", r.name, res.Revision), ""))
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyWait)
		res.Notifications = n.Wait(wctx)
		cancel()
	}
	return res, nil
}

// stampFailed records the bad verdict on the guarded revision (and on the
// current revision of its Helm release), so that no undo picks it and
// history shows why.
func (r *run) stampFailed(ctx context.Context, reason string, at time.Time) {
	if r.ref.Object != "" {
		if err := rollout.StampFailed(ctx, r.g.Clients, r.ref, reason, at); err != nil {
			r.res.Warnings = append(r.res.Warnings, err.Error())
		}
	}
	r.markRelease(ctx, false, reason)
}

// leave reports a bad release that stays in place (--no-rollback, or
// --on-inconclusive fail): exit code 3, nothing rolled back. It is an
// incident: journaled, notified, reported.
func (r *run) leave(ctx context.Context, reason string) (*Result, error) {
	res := r.res
	res.Verdict, res.Reason = VerdictUnhealthy, reason
	res.Detection = rollout.Duration(r.clk.Since(r.start))
	now := r.clk.Now()
	r.printf("%s: revision %d is not healthy: %s; not rolled back", r.name, res.Revision, reason)
	err := outcome.AsUnhealthy(fmt.Errorf("%s revision %d: %s", r.w.Describe(), res.Revision, reason))
	// Opening keeps the evidence, before the stamp is written.
	in := r.open(ctx, reason)
	r.stampFailed(ctx, reason, now)
	if in != nil {
		r.close(ctx, in, journal.ResultFailed, err, r.event(notify.KindFailed, fmt.Sprintf("%s revision %d is not healthy and was NOT rolled back: %s", r.name, res.Revision, reason), reason))
	}
	return res, err
}

// bad rolls the release back to the last known good revision (unless
// NoRollback), as an incident: under the workload's lock, journaled,
// notified, reported.
func (r *run) bad(ctx context.Context, reason string, timedOut bool) (*Result, error) {
	g, res := r.g, r.res
	detected := r.clk.Now()
	res.Reason = reason
	res.Detection = rollout.Duration(detected.Sub(r.start))
	if g.NoRollback {
		res2, err := r.leave(ctx, reason+" (--no-rollback)")
		if timedOut {
			err = outcome.AsTimeout(errors.Unwrap(err))
		}
		return res2, err
	}
	// The incident opens first, so that the controller persists its id
	// with the phase: a rollback through a Helm release cannot carry the
	// state in its own write, and the next leader continues the incident.
	// Opening keeps the evidence, before anything is written.
	in := r.open(ctx, reason)
	// The rollback must not pick this revision, and history must show why.
	r.stampFailed(ctx, reason, detected)
	if g.OnPhase != nil {
		g.OnPhase(PhaseRollingBack, detected)
	}
	r.printf("%s: revision %d is bad: %s; rolling back (detected after %s)", r.name, res.Revision, reason, res.Detection)
	if in != nil {
		in.Notify(r.event(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and is being rolled back: %s", r.name, res.Revision, reason), reason))
	}
	rb, undoErr := r.rollBack(ctx, in, map[string]any{"revision": res.Revision, "images": res.Images})
	if rb != nil {
		res.Undo, res.Helm = rb.Undo, rb.Helm
	}
	res.Recovery = rollout.Duration(r.clk.Since(detected))
	var err error
	var final notify.Event
	switch {
	case undoErr == nil && rb.Verdict() == rollout.VerdictHealthy:
		res.Verdict = VerdictRolledBack
		r.printf("%s: rolled back from %s, verified healthy; recovery took %s", r.name, rb.Moved(), res.Recovery)
		final = r.event(notify.KindSucceeded, fmt.Sprintf("%s rolled back from %s, known good, verified healthy", r.name, rb.Moved()), reason)
		err = fmt.Errorf("%s revision %d failed guard (%s); rolled back from %s", r.w.Describe(), res.Revision, reason, rb.Moved())
		if timedOut {
			err = outcome.AsTimeout(err)
		} else {
			err = outcome.AsUnhealthy(err)
		}
	case undoErr == nil:
		res.Verdict = VerdictFailed
		why := "nothing was rolled back"
		if rb.Reason() != "" {
			why = "nothing was rolled back: " + rb.Reason()
		}
		final = r.event(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and %s", r.name, res.Revision, why), reason)
		err = outcome.AsUnhealthy(fmt.Errorf("%s revision %d failed guard (%s) and %s", r.w.Describe(), res.Revision, reason, why))
	default:
		res.Verdict = VerdictFailed
		res.RollbackError = undoErr.Error()
		final = r.event(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and the rollback failed: %v", r.name, res.Revision, undoErr), reason)
		err = fmt.Errorf("%s revision %d failed guard (%s); roll back: %w", r.w.Describe(), res.Revision, reason, undoErr)
		if outcome.KindOf(undoErr) == outcome.Refused {
			// Nothing was rolled back, but the release is bad: not a plain refusal.
			err = outcome.AsUnhealthy(err)
		}
	}
	result := journal.ResultOK
	if res.Verdict != VerdictRolledBack {
		result = journal.ResultFailed
	}
	if in != nil {
		r.close(ctx, in, result, err, final)
	}
	return res, err
}

// open opens the incident of a bad release, journals why and collects the
// evidence (the pods, logs and Events of the bad revision, the analysis)
// before anything is written; nil when there is none (no Incidents, or it
// cannot be opened: a warning, the rollback goes on without a record).
func (r *run) open(ctx context.Context, reason string) *lifecycle.Incident {
	g := r.g
	if g.Incidents == nil {
		return nil
	}
	in, err := g.Incidents(ctx, r.id)
	if err != nil {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("open incident: %v", err))
		r.emit(progress.Warning, fmt.Sprintf("warning: open incident: %v", err), nil)
		return nil
	}
	r.res.Incident = in.ID()
	in.Log(ctx, journal.Entry{Step: "guard", Action: journal.ActionIncidentOpened, Target: r.target(), Result: journal.ResultOK,
		Inputs: map[string]any{"app": r.app(), "reason": "guard: " + reason, "steps": []string{"app"}, "dryRun": false,
			"trigger": "guard", "revision": r.res.Revision, "images": r.res.Images}})
	in.Log(ctx, journal.Entry{Step: "guard", Action: journal.ActionGuardFailed, Target: r.target(), Result: journal.ResultFailed,
		Inputs: map[string]any{"bake": g.Bake.String(), "interval": g.Interval.String(), "failureLimit": g.FailureLimit,
			"consecutiveErrorLimit": g.ConsecutiveErrorLimit, "onInconclusive": g.onInconclusive()},
		After: map[string]any{"reason": reason, "analysis": string(r.res.Analysis), "detection": r.res.Detection.String(),
			"rounds": r.res.Rounds, "lastRound": r.lastRound()},
		Error: reason})
	ns := r.res.Namespace
	if ns == "" {
		ns = g.Namespace
	}
	in.Collect(ctx, "guard",
		evidence.Workload{Clients: g.Clients, Kind: r.w.Kind, Namespace: ns, Name: r.w.Name},
		evidence.Analysis{Verdict: r.res.Analysis, Reason: reason, Rounds: r.res.Samples})
	return in
}

// close ends the incident with the final notification and the report.
func (r *run) close(ctx context.Context, in *lifecycle.Incident, result string, err error, final notify.Event) {
	summary := ""
	if err != nil {
		summary = err.Error()
	}
	closed, cerr := in.Close(ctx, lifecycle.Closing{Step: "guard", Action: journal.ActionIncidentClosed, Result: result,
		Inputs: map[string]any{"summary": summary, "verdict": r.res.Verdict}, Notify: &final})
	if closed != nil {
		r.res.Notifications = closed.Notifications
		r.res.Report = closed.Report
		r.res.Warnings = append(r.res.Warnings, closed.Warnings...)
	}
	if cerr != nil {
		r.res.Warnings = append(r.res.Warnings, cerr.Error())
	}
}

// rollBack rolls the guarded workload back (RollBack), a Helm-managed one
// through the Helm release read at the start of the run.
func (r *run) rollBack(ctx context.Context, in *lifecycle.Incident, before map[string]any) (*Rollback, error) {
	if o := r.helm(ctx); o != nil {
		return r.g.rollBackRelease(ctx, in, r.w, o, before)
	}
	res, err := r.g.rollBackWorkload(ctx, in, r.w, before, nil)
	return &Rollback{Undo: res}, err
}

// RollBack rolls workload (kubectl's resource syntax: web, sts/db,
// ds/agent) back to its last known good revision: with the code of
// `rollback app undo --yes`, or, when a Helm release manages the workload
// (any kind, and Releases is set), through that release with the code of `rollback
// helm undo --yes`. It holds the workload's cluster lock (and the
// release's: the ones `rollback run` and the controller take) and
// journals in in as the app step: step.started before the write,
// step.written, step.verifying and the end. before is the state journaled
// as Before. A nil in rolls back without lock or record (tests). The
// controller calls it for a rollback a previous leader decided but never
// finished: a release whose rollback landed is only verified.
func (g *Guard) RollBack(ctx context.Context, in *lifecycle.Incident, workload string, before map[string]any) (*Rollback, error) {
	w, err := rollout.ParseWorkload(workload)
	if err != nil {
		return nil, err
	}
	o, err := g.helmOwner(ctx, w)
	if err != nil {
		return nil, err
	}
	if o != nil {
		return g.rollBackRelease(ctx, in, w, o, before)
	}
	res, err := g.rollBackWorkload(ctx, in, w, before, nil)
	if res == nil && err != nil {
		return nil, err
	}
	return &Rollback{Undo: res}, err
}

// rollBackWorkload is RollBack of a workload without Helm release; with
// planned, the undo carries out that plan (made by a dry run) and no other.
func (g *Guard) rollBackWorkload(ctx context.Context, in *lifecycle.Incident, w rollout.Workload, before map[string]any, planned *rollout.Plan) (*rollout.UndoResult, error) {
	ctx, obs, err := g.lockAndStart(ctx, in, w.String(), before, true, g.workloadLock(w)...)
	if err != nil {
		return nil, err
	}
	v := g.Verification.WithClock(g.clock())
	if v.Timeout <= 0 {
		v.Timeout = 5 * time.Minute
	}
	u := rollout.Undo{Clients: g.Clients, Verification: v, Observer: obs}
	if planned != nil {
		u.Planned, u.ToRevision = planned, planned.To.Number
	}
	res, err := u.Run(ctx, w.String())
	e := journal.Entry{Step: "app", Action: journal.ActionStepCompleted, Target: w.String(), Before: before, Result: journal.ResultOK}
	if res != nil {
		e.After = map[string]any{"revision": res.ToRevision, "newRevision": res.NewRevision, "images": res.ImagesAfter, "verdict": res.Verdict, "ownership": res.Ownership}
		if res.Verdict == rollout.VerdictSkipped {
			e.Action, e.Result = journal.ActionStepSkipped, journal.ResultSkipped
		}
	}
	if err != nil || (res != nil && res.Verdict != rollout.VerdictHealthy && res.Verdict != rollout.VerdictSkipped) {
		e.Action, e.Result = journal.ActionStepFailed, journal.ResultFailed
		if err != nil {
			e.Error = err.Error()
		}
	}
	if in != nil {
		in.Log(ctx, e)
	}
	return res, err
}

// VerifyRollback watches and verifies workload (kubectl's resource
// syntax) after a rollback that already landed (a new controller leader
// takes over an incident whose undo the previous one wrote): no second
// rollback, under the same lock, journaled in in.
func (g *Guard) VerifyRollback(ctx context.Context, in *lifecycle.Incident, workload string) (*rollout.StatusResult, error) {
	w, err := rollout.ParseWorkload(workload)
	if err != nil {
		return nil, err
	}
	if plan, err := rollout.PlanUnstick(ctx, g.Clients, w.String()); err == nil && plan != nil {
		// The previous leader died between the rollback's write and the
		// replacement of the pod the StatefulSet is stuck on: replace it
		// (no template write, journaled as the app step), then verify.
		res, err := g.rollBackWorkload(ctx, in, w, map[string]any{"replaceStuck": plan.ReplaceStuck}, plan)
		if res == nil {
			return nil, err
		}
		return res.Status, err
	}
	ctx, obs, err := g.lockAndStart(ctx, in, w.String(), nil, false, g.workloadLock(w)...)
	if err != nil {
		return nil, err
	}
	st := rollout.Status{Clients: g.Clients, Verification: g.Verification.WithClock(g.clock()), Observer: obs}
	res, err := st.Run(ctx, w.String())
	e := journal.Entry{Step: "app", Action: journal.ActionHealthChecked, Target: w.String(), Result: journal.ResultOK, Inputs: map[string]any{"phase": "after"}}
	if res != nil {
		e.After = map[string]any{"revision": res.Revision, "images": res.Images, "verdict": res.Verdict}
	}
	if err != nil {
		e.Result, e.Error = journal.ResultFailed, err.Error()
	}
	if in != nil {
		in.Log(ctx, e)
	}
	return res, err
}

// workloadLock is the lock of workload w (none without Leases).
func (g *Guard) workloadLock(w rollout.Workload) []lifecycle.LockTarget {
	if g.Leases == nil {
		return nil
	}
	return []lifecycle.LockTarget{lifecycle.Workload(g.Leases, g.Namespace, w.Kind.Lower(), w.Name)}
}

// lockAndStart takes locks in the incident and, for a write, journals the
// start of the app step of target; the returned context ends if a lock is
// lost, and the observer journals the undo's write and verification.
func (g *Guard) lockAndStart(ctx context.Context, in *lifecycle.Incident, target string, before map[string]any, write bool, locks ...lifecycle.LockTarget) (context.Context, progress.Observer, error) {
	if in == nil {
		return ctx, g.Observer, nil
	}
	if len(locks) > 0 {
		lctx, err := in.Lock(ctx, locks...)
		if err != nil {
			return ctx, nil, fmt.Errorf("acquire the cluster lock: %w", err)
		}
		ctx = lctx
	}
	if !write {
		return ctx, g.Observer, nil
	}
	if err := in.Record(ctx, journal.Entry{Step: "app", Action: journal.ActionStepStarted, Target: target, Before: before}); err != nil {
		return ctx, nil, outcome.AsRefused(fmt.Errorf("%w; the rollback did not start", err))
	}
	return ctx, in.StepObserver(ctx, "app", target, g.Observer), nil
}

func (r *run) lastRound() []promquery.Sample {
	if n := len(r.res.Samples); n > 0 {
		return r.res.Samples[n-1]
	}
	return nil
}

// event is a notification about the guarded release.
func (r *run) event(kind, summary, reason string) notify.Event {
	fields := []notify.Field{{Name: r.w.Kind.Lower(), Value: r.res.Namespace + "/" + r.w.Name}, {Name: "revision", Value: fmt.Sprint(r.res.Revision)}}
	if len(r.res.Images) > 0 {
		fields = append(fields, notify.Field{Name: "images", Value: strings.Join(r.res.Images, ", ")})
	}
	if u := r.res.Undo; u != nil && u.ToRevision != 0 {
		fields = append(fields, notify.Field{Name: "rolled back", Value: fmt.Sprintf("%d -> %d", u.FromRevision, u.ToRevision)})
	}
	if h := r.res.Helm; h != nil && h.Plan != nil && h.NewRevision != 0 {
		fields = append(fields, notify.Field{Name: "helm release", Value: fmt.Sprintf("%s %d -> %d (now %d)", r.res.Release, h.Plan.From.Revision, h.Plan.To.Revision, h.NewRevision)})
	}
	if r.res.Detection > 0 {
		fields = append(fields, notify.Field{Name: "detection", Value: r.res.Detection.String()})
	}
	if r.res.Recovery > 0 {
		fields = append(fields, notify.Field{Name: "recovery", Value: r.res.Recovery.String()})
	}
	id := r.res.Incident
	if id == "" {
		id = r.id
	}
	return notify.Event{Incident: id, App: r.app(), Kind: kind, Actor: r.g.Actor, Reason: reason,
		Summary: summary, Step: "guard", Fields: fields, Time: r.clk.Now()}
}

// describe prints a round's samples in one line.
func describe(samples []promquery.Sample) string {
	parts := make([]string, 0, len(samples))
	for _, s := range samples {
		p := s.Check + " " + string(s.Outcome)
		switch {
		case s.Detail != "":
			p += " (" + s.Detail + ")"
		case s.Check == "pods":
			p += fmt.Sprintf(" (%g ready)", s.Value)
		case strings.HasPrefix(s.Check, "url "):
		default:
			p += fmt.Sprintf(" (%.4g)", s.Value)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// firstBad describes the first sample of a round with outcome o.
func firstBad(samples []promquery.Sample, o promquery.Outcome) string {
	for _, s := range samples {
		if s.Outcome == o {
			if s.Detail != "" {
				return s.Check + ": " + s.Detail
			}
			return s.Check
		}
	}
	return "several rounds"
}
