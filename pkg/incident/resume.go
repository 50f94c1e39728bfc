package incident

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
)

// restoreInputs takes the reason, steps and database target of a resumed
// incident from its incident.opened entry, so that a resume does exactly what
// the interrupted run set out to do.
func (s *session) restoreInputs() error {
	for _, e := range s.prior {
		if e.Action == "incident.closed" {
			return outcome.AsRefused(fmt.Errorf("resume incident %s: it is closed (%s); start a new one with `rollback run`", s.id, e.Result))
		}
	}
	for _, e := range s.prior {
		if e.Action != "incident.opened" {
			continue
		}
		if app, _ := e.Inputs["app"].(string); app != "" && app != s.r.Runbook.App {
			return outcome.AsRefused(fmt.Errorf("resume incident %s: it is an incident of %s, but the runbook is for %s: pass the right -f", s.id, app, s.r.Runbook.App))
		}
		if reason, _ := e.Inputs["reason"].(string); reason != "" {
			s.reason = reason
		}
		if raw, ok := e.Inputs["steps"]; ok && len(s.r.Steps) == 0 {
			var steps []string
			if remarshal(raw, &steps) == nil && len(steps) > 0 {
				s.steps = steps
			}
		}
		if raw, ok := e.Inputs["db"]; ok {
			var db DBTarget
			if remarshal(raw, &db) == nil {
				s.db = db
			}
		}
		return nil
	}
	return outcome.AsRefused(fmt.Errorf("resume incident %s: its journal has no incident.opened entry", s.id))
}

// completedSteps lists the steps the journal shows as completed or skipped.
func (s *session) completedSteps() []string {
	var done []string
	for _, e := range s.prior {
		if (e.Action == "step.completed" || e.Action == "step.skipped") && e.Target == "" && !slices.Contains(done, e.Step) {
			done = append(done, e.Step)
		}
	}
	return done
}

// stepDone reports whether the journal shows step as finished for all its targets.
func (s *session) stepDone(step string) bool { return slices.Contains(s.completedSteps(), step) }

// targetDone reports whether step finished for target (cluster-qualified)
// before the resume, or earlier in this run.
func (s *session) targetDone(step, target string) bool {
	s.mu.Lock()
	now := s.doneNow[step+"\x00"+target]
	s.mu.Unlock()
	if now {
		return true
	}
	for _, e := range s.prior {
		if e.Step == step && e.Target == target && (e.Action == "step.completed" || e.Action == "step.skipped") {
			return true
		}
	}
	return false
}

// recordedPlan returns the Inputs["plan"] of the last step.started entry of
// step and target before the resume, decoded into v.
func (s *session) recordedPlan(step, target string, v any) bool {
	var found *journal.Entry
	for i := range s.prior {
		e := &s.prior[i]
		if e.Step == step && e.Target == target && e.Action == "step.started" {
			found = e
		}
	}
	if found == nil || found.Inputs["plan"] == nil {
		return false
	}
	return remarshal(found.Inputs["plan"], v) == nil
}

// remarshal converts a decoded JSON value into v.
func remarshal(in, v any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// targetWrittenPhases returns the phases of the writes the journal shows
// for step and target before the resume (step.written entries), in order;
// "written" for a write without a phase.
func (s *session) targetWrittenPhases(step, target string) []string {
	var out []string
	for _, e := range s.prior {
		if e.Step == step && e.Target == target && e.Action == journal.ActionStepWritten {
			p, _ := e.Inputs["phase"].(string)
			if p == "" {
				p = "written"
			}
			out = append(out, p)
		}
	}
	return out
}

// targetStarted reports whether step started for target before the resume.
func (s *session) targetStarted(step, target string) bool {
	for _, e := range s.prior {
		if e.Step == step && e.Target == target && e.Action == journal.ActionStepStarted {
			return true
		}
	}
	return false
}
