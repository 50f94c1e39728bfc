package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// StepObserver returns the observer of one step's target: it passes every
// event on to next and journals the target's writes (step.written, with
// the phase a Written event's Data names) and the start of its
// verification (step.verifying), so that a resume knows how far it got.
// Every path (rollback run, guard, the controller, single commands) uses it.
func (in *Incident) StepObserver(ctx context.Context, step, target string, next progress.Observer) progress.Observer {
	return progress.Tee(next, progress.Func(func(e progress.Event) {
		switch e.Kind {
		case progress.Written:
			inputs := map[string]any{"detail": e.Message, "source": e.Source}
			if p, ok := e.Data.(fmt.Stringer); ok {
				inputs["phase"] = p.String()
			}
			in.Log(ctx, journal.Entry{Step: step, Action: journal.ActionStepWritten, Target: target, Result: journal.ResultOK, Inputs: inputs})
		case progress.Verifying:
			in.Log(ctx, journal.Entry{Step: step, Action: journal.ActionStepVerifying, Target: target})
		}
	}))
}

// OneStep is a single command's change as an incident of its own, or as a
// step of an open incident (Join): `rollback app undo`, `config undo`,
// `db undo`, `db restore`, `app restart` and `flag disable|enable` (and so
// the runbook's scripts that wrap them) leave the same record as `rollback
// run`: journal, cluster mirror, report, the list of `rollback incident`.
type OneStep struct {
	// Options are the incident's (journal directory, actor, mirror, ...).
	Options
	// Join is the id of an open incident to record the change in; empty
	// opens a new incident.
	Join string
	// Command is the command line's command ("app undo"), for the record.
	Command string
	// Step is app, config, db or flag; Target is what it changes
	// (deployment/web, configmap/app-config, database, flag/new-checkout).
	Step, Target string
	// Reason says why (--reason), when given.
	Reason string
	// Inputs are the command's settings, journaled with the step.
	Inputs map[string]any
	// Opened are more inputs of the incident.opened entry of a new
	// incident (the runbook, its escalation contacts), for the report.
	Opened map[string]any
	// Locks are taken around the change (the workload's lock, the one
	// `rollback run`, guard and the controller take).
	Locks []LockTarget
	// Check, when set, runs before anything is recorded (a plan, a read):
	// bad input is refused without leaving an incident behind.
	Check func(ctx context.Context) error
	// OnOpen, when set, is told the incident once it is open, for a
	// change that journals entries of its own (Incident.Append).
	OnOpen func(in *Incident)
}

// StepOutcome is what the change did, for the journal.
type StepOutcome struct {
	// Skipped is true when there was nothing to change.
	Skipped bool
	// Before and After are the state around the change.
	Before, After any
	// Detail says what happened in one line.
	Detail string
	// Inputs are more facts for the step's end entry (the flag step's
	// "change": disabled or enabled, for the report).
	Inputs map[string]any
}

// OneStepResult says where the change was recorded.
type OneStepResult struct {
	// Incident is the incident id; Journal and Report its files (Report is
	// empty when the change joined an incident that stays open).
	Incident, Journal, Report string
}

// Run opens (or joins) the incident, takes the locks, journals the step's
// start (a change whose start cannot be journaled does not run), runs do
// with the step's observer, journals the end and closes an incident it
// opened, writing its report. do's error is returned as is.
func (o OneStep) Run(ctx context.Context, do func(ctx context.Context, obs progress.Observer) (StepOutcome, error)) (*OneStepResult, error) {
	if o.Check != nil {
		if err := o.Check(ctx); err != nil {
			return nil, err
		}
	}
	opts := o.Options
	if o.Join != "" {
		opts.ID, opts.Resume = o.Join, true
	}
	in, err := Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	res := &OneStepResult{Incident: in.ID(), Journal: in.JournalPath()}
	if o.OnOpen != nil {
		o.OnOpen(in)
	}
	if o.Join != "" {
		for _, e := range in.Prior() {
			if e.Action == journal.ActionIncidentClosed {
				in.Abandon()
				return res, outcome.AsRefused(fmt.Errorf("incident %s is closed: leave --incident out to record this change in a new incident", o.Join))
			}
		}
	} else {
		inputs := map[string]any{}
		for k, v := range o.Opened {
			inputs[k] = v
		}
		inputs["app"], inputs["reason"], inputs["steps"], inputs["trigger"] = o.App, o.Reason, []string{o.Step}, o.Command
		if err := in.Record(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: inputs}); err != nil {
			in.Abandon()
			return res, outcome.AsRefused(fmt.Errorf("%w; nothing was changed", err))
		}
		in.info("incident/"+in.ID(), "incident %s opened for this change (journal %s)", in.ID(), in.JournalPath())
	}
	lctx, err := in.Lock(ctx, o.Locks...)
	if err != nil {
		return res, o.end(ctx, in, res, StepOutcome{}, err, true)
	}
	if err := in.Record(lctx, journal.Entry{Step: o.Step, Action: journal.ActionStepStarted, Target: o.Target,
		Inputs: map[string]any{"command": o.Command, "settings": o.Inputs}}); err != nil {
		return res, o.end(ctx, in, res, StepOutcome{}, outcome.AsRefused(fmt.Errorf("%w; nothing was changed", err)), true)
	}
	out, doErr := do(lctx, in.StepObserver(lctx, o.Step, o.Target, o.Observer))
	if doErr == nil && lctx.Err() != nil {
		doErr = context.Cause(lctx)
	}
	return res, o.end(ctx, in, res, out, doErr, false)
}

// end journals the step's end and closes an incident this command opened.
func (o OneStep) end(ctx context.Context, in *Incident, res *OneStepResult, out StepOutcome, doErr error, notStarted bool) error {
	e := journal.Entry{Step: o.Step, Target: o.Target, Before: out.Before, After: out.After, Action: journal.ActionStepCompleted,
		Result: journal.ResultOK, Inputs: map[string]any{"detail": out.Detail}}
	for k, v := range out.Inputs {
		e.Inputs[k] = v
	}
	switch {
	case doErr != nil:
		e.Action, e.Result, e.Error = journal.ActionStepFailed, journal.ResultFailed, doErr.Error()
	case out.Skipped:
		e.Action, e.Result = journal.ActionStepSkipped, journal.ResultSkipped
	}
	if !notStarted {
		in.Log(ctx, e)
	}
	if o.Join != "" {
		in.Abandon() // the joined incident stays open for its owner
		return doErr
	}
	closing := Closing{Action: journal.ActionIncidentClosed, Result: e.Result, Error: e.Error,
		Inputs: map[string]any{"summary": fmt.Sprintf("%s %s: %s", o.Command, o.Target, summaryOf(e, out))}}
	if closing.Result == journal.ResultSkipped {
		closing.Result = journal.ResultOK
	}
	closed, err := in.Close(ctx, closing)
	if closed != nil {
		res.Report = closed.Report
	}
	return errors.Join(doErr, err)
}

func summaryOf(e journal.Entry, out StepOutcome) string {
	if e.Error != "" {
		return "failed: " + e.Error
	}
	if out.Detail != "" {
		return out.Detail
	}
	return e.Result
}
