package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
)

// notifyWait bounds the wait for notification deliveries at the end of a run.
const notifyWait = 20 * time.Second

func (r *run) app() string {
	if r.g.App != "" {
		return r.g.App
	}
	return r.name
}

func (r *run) target() string { return "deployment/" + r.name }

// good stamps the guarded revision known-good and reports success.
func (r *run) good(ctx context.Context, warning string) (*Result, error) {
	res := r.res
	res.Verdict = VerdictPassed
	if warning != "" {
		res.Warnings = append(res.Warnings, warning)
		r.printf("warning: %s", warning)
	}
	if err := stampGood(ctx, r.g.Clients, r.rs, r.hash, r.clk.Now()); err != nil {
		res.Verdict, res.Reason = VerdictFailed, err.Error()
		return res, fmt.Errorf("guard deployment %s: the release passed its bake but %w", r.name, err)
	}
	how := fmt.Sprintf("passed its %s bake", r.g.Bake)
	if warning != "" {
		how = "was accepted on an inconclusive analysis"
	}
	r.printf("%s: revision %d %s (%d rounds passed, %d failed, %d inconclusive); stamped known-good",
		r.name, res.Revision, how, res.Rounds.Passed, res.Rounds.Failed, res.Rounds.Inconclusive)
	r.notify(notify.KindSucceeded, fmt.Sprintf("%s revision %d passed its bake and is known-good", r.name, res.Revision), "")
	r.waitNotify(ctx)
	return res, nil
}

// leave reports a bad release that stays in place (--no-rollback, or
// --on-inconclusive fail): exit code 3, nothing changed.
func (r *run) leave(ctx context.Context, reason string) (*Result, error) {
	res := r.res
	res.Verdict, res.Reason = VerdictUnhealthy, reason
	res.Detection = rollout.Duration(r.clk.Since(r.start))
	if r.rs != "" && r.hash != "" {
		if err := stampFailed(ctx, r.g.Clients, r.rs, r.hash, reason, r.clk.Now()); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	r.printf("%s: revision %d is not healthy: %s; not rolled back", r.name, res.Revision, reason)
	r.notify(notify.KindFailed, fmt.Sprintf("%s revision %d is not healthy and was NOT rolled back: %s", r.name, res.Revision, reason), reason)
	r.waitNotify(ctx)
	return res, outcome.AsUnhealthy(fmt.Errorf("deployment %s revision %d: %s", r.name, res.Revision, reason))
}

// bad rolls the release back to the last known good revision (unless
// NoRollback), journaling and notifying every action.
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
	if r.rs != "" && r.hash == "" {
		if rs, err := g.Clients.ReplicaSets.Get(ctx, r.rs, metav1.GetOptions{}); err == nil {
			r.hash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	if r.rs != "" && r.hash != "" {
		// The rollback must not pick this revision, and history must show why.
		if err := stampFailed(ctx, g.Clients, r.rs, r.hash, reason, detected); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	if g.OnPhase != nil {
		g.OnPhase(PhaseRollingBack, detected)
	}
	r.printf("%s: revision %d is bad: %s; rolling back (detected after %s)", r.name, res.Revision, reason, res.Detection)
	j := r.openJournal(ctx, reason)
	r.notify(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and is being rolled back: %s", r.name, res.Revision, reason), reason)

	undoRes, undoErr := r.undo(ctx, j)
	res.Undo = undoRes
	res.Recovery = rollout.Duration(r.clk.Since(detected))
	var err error
	switch {
	case undoErr == nil && undoRes != nil && undoRes.Verdict == rollout.VerdictHealthy:
		res.Verdict = VerdictRolledBack
		r.printf("%s: rolled back from revision %d to revision %d (now %d), verified healthy; recovery took %s",
			r.name, undoRes.FromRevision, undoRes.ToRevision, undoRes.NewRevision, res.Recovery)
		r.notify(notify.KindSucceeded, fmt.Sprintf("%s rolled back from revision %d to known-good revision %d and verified healthy", r.name, undoRes.FromRevision, undoRes.ToRevision), reason)
		err = fmt.Errorf("deployment %s revision %d failed guard (%s); rolled back to revision %d", r.name, res.Revision, reason, undoRes.ToRevision)
		if timedOut {
			err = outcome.AsTimeout(err)
		} else {
			err = outcome.AsUnhealthy(err)
		}
	case undoErr == nil:
		res.Verdict = VerdictFailed
		why := "nothing was rolled back"
		if undoRes != nil && undoRes.Reason != "" {
			why = "nothing was rolled back: " + undoRes.Reason
		}
		r.notify(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and %s", r.name, res.Revision, why), reason)
		err = outcome.AsUnhealthy(fmt.Errorf("deployment %s revision %d failed guard (%s) and %s", r.name, res.Revision, reason, why))
	default:
		res.Verdict = VerdictFailed
		r.notify(notify.KindFailed, fmt.Sprintf("%s revision %d went bad and the rollback failed: %v", r.name, res.Revision, undoErr), reason)
		err = fmt.Errorf("deployment %s revision %d failed guard (%s); roll back: %w", r.name, res.Revision, reason, undoErr)
		if outcome.KindOf(undoErr) == outcome.Refused {
			// Nothing was rolled back, but the release is bad: not a plain refusal.
			err = outcome.AsUnhealthy(err)
		}
	}
	results := r.waitNotify(ctx)
	if j != nil {
		for _, nr := range results {
			e := journal.Entry{Step: "notify", Action: "notify.sent", Result: journal.ResultOK,
				Inputs: map[string]any{"channel": nr.Channel, "kind": nr.Kind, "attempts": nr.Attempts}}
			if nr.Err != "" {
				e.Action, e.Result, e.Error = "notify.failed", journal.ResultFailed, nr.Err
			}
			r.append(ctx, j, e)
		}
		closed := journal.Entry{Step: "guard", Action: "incident.closed", Result: journal.ResultOK,
			Inputs: map[string]any{"summary": err.Error()}}
		if res.Verdict != VerdictRolledBack {
			closed.Result = journal.ResultFailed
		}
		r.append(ctx, j, closed)
	}
	return res, err
}

// undo rolls back with the same code path as `rollback app undo --yes`,
// holding the cluster lock around it.
func (r *run) undo(ctx context.Context, j Recorder) (*rollout.UndoResult, error) {
	g := r.g
	if g.Lock != nil {
		l := *g.Lock
		l.Incident = r.incident(j)
		if l.Clock == nil {
			l.Clock = r.clk
		}
		held, err := l.Acquire(ctx)
		if err != nil {
			r.append(ctx, j, journal.Entry{Step: "guard", Action: "lock.failed", Target: "lease/" + clusterlock.LeaseName(l.App), Result: journal.ResultFailed, Error: err.Error()})
			return nil, fmt.Errorf("acquire the cluster lock: %w", err)
		}
		r.append(ctx, j, journal.Entry{Step: "guard", Action: "lock.acquired", Target: "lease/" + clusterlock.LeaseName(l.App), Result: journal.ResultOK})
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := held.Release(rctx); err != nil {
				r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("release the cluster lock: %v", err))
				return
			}
			r.append(rctx, j, journal.Entry{Step: "guard", Action: "lock.released", Target: "lease/" + clusterlock.LeaseName(l.App), Result: journal.ResultOK})
		}()
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	u := rollout.Undo{Clients: g.Clients, Clock: r.clk, Progress: r.out, TTY: g.TTY,
		Timeout: timeout, SettleWindow: g.Settle, CheckURLs: g.CheckURLs, HTTPClient: g.HTTPClient}
	before := map[string]any{"revision": r.res.Revision, "images": r.res.Images}
	r.append(ctx, j, journal.Entry{Step: "app", Action: "step.started", Target: r.target(), Before: before})
	res, err := u.Run(ctx, r.name)
	e := journal.Entry{Step: "app", Action: "step.completed", Target: r.target(), Before: before, Result: journal.ResultOK}
	if res != nil {
		e.After = map[string]any{"revision": res.ToRevision, "newRevision": res.NewRevision, "images": res.ImagesAfter, "verdict": res.Verdict}
		if res.Verdict == rollout.VerdictSkipped {
			e.Action, e.Result = "step.skipped", journal.ResultSkipped
		}
	}
	if err != nil || (res != nil && res.Verdict != rollout.VerdictHealthy && res.Verdict != rollout.VerdictSkipped) {
		e.Action, e.Result = "step.failed", journal.ResultFailed
		if err != nil {
			e.Error = err.Error()
		}
	}
	r.append(ctx, j, e)
	return res, err
}

// openJournal opens the incident journal of the rollback and records its
// opening; nil when there is none (a failure to open is a warning: the
// rollback goes on).
func (r *run) openJournal(ctx context.Context, reason string) Recorder {
	g := r.g
	j := g.Journal
	if j == nil && g.OpenJournal != nil {
		var err error
		if j, err = g.OpenJournal(ctx, r.id); err != nil {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("open incident journal: %v", err))
			r.printf("warning: open incident journal: %v", err)
			return nil
		}
	}
	if j == nil {
		return nil
	}
	r.res.Incident = j.ID()
	r.append(ctx, j, journal.Entry{Step: "guard", Action: "incident.opened", Target: r.target(), Result: journal.ResultOK,
		Inputs: map[string]any{"app": r.app(), "reason": "guard: " + reason, "steps": []string{"app"}, "dryRun": false,
			"trigger": "guard", "revision": r.res.Revision, "images": r.res.Images}})
	r.append(ctx, j, journal.Entry{Step: "guard", Action: "guard.failed", Target: r.target(), Result: journal.ResultFailed,
		Inputs: map[string]any{"bake": g.Bake.String(), "interval": g.Interval.String(), "failureLimit": g.FailureLimit,
			"consecutiveErrorLimit": g.ConsecutiveErrorLimit, "onInconclusive": g.onInconclusive()},
		After: map[string]any{"reason": reason, "analysis": string(r.res.Analysis), "detection": r.res.Detection.String(),
			"rounds": r.res.Rounds, "lastRound": r.lastRound()},
		Error: reason})
	return j
}

func (r *run) lastRound() []promquery.Sample {
	if n := len(r.res.Samples); n > 0 {
		return r.res.Samples[n-1]
	}
	return nil
}

func (r *run) incident(j Recorder) string {
	if j != nil {
		return j.ID()
	}
	return r.id
}

// append journals e; a journal error is a warning, never a reason to stop.
func (r *run) append(ctx context.Context, j Recorder, e journal.Entry) {
	if j == nil {
		return
	}
	if e.Actor == "" {
		e.Actor = r.g.Actor
	}
	if _, err := j.Append(ctx, e); err != nil {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("journal %s: %v", e.Action, err))
	}
}

func (r *run) notify(kind, summary, reason string) {
	if r.g.Notify == nil {
		return
	}
	fields := []notify.Field{{Name: "deployment", Value: r.res.Namespace + "/" + r.name}, {Name: "revision", Value: fmt.Sprint(r.res.Revision)}}
	if len(r.res.Images) > 0 {
		fields = append(fields, notify.Field{Name: "images", Value: strings.Join(r.res.Images, ", ")})
	}
	if u := r.res.Undo; u != nil && u.ToRevision != 0 {
		fields = append(fields, notify.Field{Name: "rolled back", Value: fmt.Sprintf("%d -> %d", u.FromRevision, u.ToRevision)})
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
	r.g.Notify.Send(notify.Event{Incident: id, App: r.app(), Kind: kind, Actor: r.g.Actor, Reason: reason,
		Summary: summary, Step: "guard", Fields: fields, Time: r.clk.Now()})
}

// waitNotify waits for the deliveries and records them in the result.
func (r *run) waitNotify(ctx context.Context) []notify.Result {
	if r.g.Notify == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyWait)
	defer cancel()
	results := r.g.Notify.Wait(wctx)
	r.res.Notifications = results
	return results
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
