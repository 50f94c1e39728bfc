package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Step verdicts.
const (
	stepDone        = "done"
	stepSkipped     = "skipped"
	stepResumedSkip = "resumed-skip"
	stepPlanned     = "planned"
	stepFailed      = "failed"
)

// errCancelled is the refusal when someone answers no at a step's gate.
var errCancelled = errors.New("cancelled at the confirmation gate; nothing more was changed: resume later with `rollback run --resume ID`")

// runStep runs one step, unless the journal shows it finished before.
func (s *session) runStep(ctx context.Context, step string) error {
	if s.stepDone(step) {
		s.progress("step %s: completed before the interruption; not repeated", step)
		s.res.Steps = append(s.res.Steps, StepResult{Step: step, Verdict: stepResumedSkip, Detail: "completed before the interruption"})
		return nil
	}
	if s.r.Confirm != nil {
		ok, err := s.r.Confirm(step, fmt.Sprintf("Run step %s (%s)?", step, stepWhat(step)))
		if err != nil {
			return err
		}
		if !ok {
			s.log(ctx, journal.Entry{Step: step, Action: journal.ActionStepCancelled, Result: journal.ResultSkipped})
			s.res.Verdict = VerdictRefused
			return outcome.AsRefused(fmt.Errorf("step %s: %w", step, errCancelled))
		}
	}
	s.progress("step %s: started", step)
	if err := s.record(ctx, journal.Entry{Step: step, Action: journal.ActionStepStarted}); err != nil {
		return outcome.AsRefused(fmt.Errorf("step %s: %w; the step did not run, nothing was changed by it: free disk space, then `rollback run --resume %s`", step, err, s.id))
	}
	var results []StepResult
	var err error
	switch step {
	case "app":
		results, err = s.appStep(ctx)
	case "config":
		results, err = s.configStep(ctx)
	case "db":
		results, err = s.dbStep(ctx)
	}
	s.res.Steps = append(s.res.Steps, results...)
	if err != nil {
		s.log(ctx, journal.Entry{Step: step, Action: journal.ActionStepFailed, Result: journal.ResultFailed, Error: err.Error()})
		s.notify(notify.Event{Kind: notify.KindProgress, Step: step, Summary: fmt.Sprintf("Step %s failed: %s", step, firstLine(err.Error())),
			Escalation: s.res.Escalation})
		return fmt.Errorf("step %s: %w", step, err)
	}
	action, result := journal.ActionStepCompleted, journal.ResultOK
	if allSkipped(results) {
		action, result = journal.ActionStepSkipped, journal.ResultSkipped
	}
	s.log(ctx, journal.Entry{Step: step, Action: action, Result: result})
	s.progress("step %s: %s", step, result)
	s.notify(notify.Event{Kind: notify.KindProgress, Step: step, Summary: fmt.Sprintf("Step %s %s", step, result), Fields: stepFields(results)})
	return nil
}

// target runs one target of a step: it skips targets finished before a
// resume, journals the start (with the plan) before do writes anything,
// the writes and the start of the verification as do reports them through
// the observer it gets, and the end.
func (s *session) target(ctx context.Context, step, target, cluster string, plan any, do func(obs progress.Observer) (StepResult, error)) (StepResult, error) {
	if s.targetDone(step, target) {
		return StepResult{Step: step, Target: target, Cluster: cluster, Verdict: stepResumedSkip, Detail: "completed before the interruption"}, nil
	}
	start := s.r.Clock.Now()
	if err := s.record(ctx, journal.Entry{Step: step, Action: journal.ActionStepStarted, Target: target, Inputs: map[string]any{"cluster": cluster, "plan": plan}}); err != nil {
		err = outcome.AsRefused(fmt.Errorf("%s %s: %w; nothing was changed", step, target, err))
		return StepResult{Step: step, Target: target, Cluster: cluster, Verdict: stepFailed, Error: err.Error()}, err
	}
	res, err := do(s.targetObserver(ctx, step, target))
	res.Step, res.Target, res.Cluster = step, target, cluster
	res.Duration = rollout.Duration(s.r.Clock.Since(start))
	e := journal.Entry{Step: step, Target: target, Before: res.Before, After: res.After, Inputs: map[string]any{"cluster": cluster, "detail": res.Detail}}
	switch {
	case err != nil:
		res.Verdict, res.Error = stepFailed, err.Error()
		e.Action, e.Result, e.Error = journal.ActionStepFailed, journal.ResultFailed, err.Error()
	case res.Verdict == stepSkipped:
		e.Action, e.Result = journal.ActionStepSkipped, journal.ResultSkipped
	default:
		res.Verdict = stepDone
		e.Action, e.Result = journal.ActionStepCompleted, journal.ResultOK
	}
	s.log(ctx, e)
	if err == nil {
		s.mu.Lock()
		if s.doneNow == nil {
			s.doneNow = map[string]bool{}
		}
		s.doneNow[step+"\x00"+target] = true
		s.mu.Unlock()
	}
	s.progress("  %s %s: %s %s", step, target, res.Verdict, res.Detail)
	return res, err
}

// targetObserver is the observer of one target: it journals the target's
// writes and the start of its verification (lifecycle.Incident.StepObserver).
func (s *session) targetObserver(ctx context.Context, step, target string) progress.Observer {
	return s.in.StepObserver(ctx, step, target, s.r.Observer)
}

// targetName qualifies a target with its cluster when there are several.
func (s *session) targetName(cluster, target string) string {
	if len(s.r.Clusters) > 1 {
		return cluster + ":" + target
	}
	return target
}

func stepWhat(step string) string {
	switch step {
	case "app":
		return "roll back the workloads to their last known good revisions"
	case "config":
		return "restore the configmaps and secrets"
	default:
		return "back up the database, verify the backup, revert migrations"
	}
}

func allSkipped(rs []StepResult) bool {
	for _, r := range rs {
		if r.Verdict != stepSkipped && r.Verdict != stepResumedSkip {
			return false
		}
	}
	return true
}

func stepFields(rs []StepResult) []notify.Field {
	var out []notify.Field
	for _, r := range rs {
		out = append(out, notify.Field{Name: r.Target, Value: r.Verdict + " " + r.Detail})
	}
	return slices.Clip(out)
}
