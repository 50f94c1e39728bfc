package incident

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldenfile "github.com/vibestack/rollback/internal/golden"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

func TestStepOrder(t *testing.T) {
	withDB := &runbook.Runbook{Database: &runbook.Database{}}
	cases := []struct {
		name  string
		rb    *runbook.Runbook
		steps []string
		want  string
		code  outcome.Kind
	}{
		{"default", withDB, nil, "app,config,db", 0},
		{"runbook order", &runbook.Runbook{Steps: []string{"db", "app"}, Database: &runbook.Database{}}, nil, "db,app", 0},
		{"flag wins", withDB, []string{"config"}, "config", 0},
		{"unknown", withDB, []string{"app", "cache"}, "", outcome.Refused},
		{"twice", withDB, []string{"app", "app"}, "", outcome.Refused},
		{"db without database", &runbook.Runbook{}, []string{"db"}, "", outcome.Refused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := (&Run{Runbook: c.rb, Steps: c.steps}).stepOrder()
			if code := outcome.KindOf(err); code != c.code {
				t.Fatalf("exit code %d (%v), want %d", code, err, c.code)
			}
			if strings.Join(got, ",") != c.want {
				t.Errorf("steps %v, want %s", got, c.want)
			}
		})
	}
}

func TestResumeRestoresInputsAndSkipsDoneSteps(t *testing.T) {
	prior := []journal.Entry{
		{Action: "incident.opened", Inputs: map[string]any{"app": "shop", "reason": "bad release", "steps": []any{"app", "config", "db"},
			"db": map[string]any{"steps": float64(2)}}},
		{Action: "step.started", Step: "app"},
		{Action: "step.completed", Step: "app", Target: "deployment/web"},
		{Action: "step.completed", Step: "app"},
		{Action: "step.started", Step: "config", Target: "configmap/cfg", Inputs: map[string]any{"plan": map[string]any{"to": "cfg.snap-1", "deployment": "web"}}},
	}
	s := &session{r: &Run{Runbook: &runbook.Runbook{App: "shop"}}, id: "inc-1", prior: prior}
	if err := s.restoreInputs(); err != nil {
		t.Fatal(err)
	}
	if s.reason != "bad release" || strings.Join(s.steps, ",") != "app,config,db" || s.db.Steps != 2 {
		t.Errorf("restored reason %q steps %v db %+v", s.reason, s.steps, s.db)
	}
	if !s.stepDone("app") || s.stepDone("config") || !s.targetDone("app", "deployment/web") {
		t.Error("done steps wrong")
	}
	var plan configPlan
	if !s.recordedPlan("config", "configmap/cfg", &plan) || plan.To != "cfg.snap-1" {
		t.Errorf("recorded config plan = %+v", plan)
	}

	closed := append(prior, journal.Entry{Action: "incident.closed", Result: "ok"})
	s = &session{r: &Run{Runbook: &runbook.Runbook{App: "shop"}}, id: "inc-1", prior: closed}
	if err := s.restoreInputs(); outcome.KindOf(err) != outcome.Refused {
		t.Errorf("resuming a closed incident: %v, want a refusal", err)
	}
	s = &session{r: &Run{Runbook: &runbook.Runbook{App: "other"}}, id: "inc-1", prior: prior}
	if err := s.restoreInputs(); outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "incident of shop") {
		t.Errorf("resuming with another app's runbook: %v", err)
	}
}

func TestEscalationLines(t *testing.T) {
	rb := &runbook.Runbook{Escalation: runbook.Escalation{
		Primary:         &runbook.Contact{Name: "Dana", Contact: "+1-555"},
		EngineeringLead: &runbook.Contact{Name: "Fay", Contact: "fay@example.com"},
	}}
	got := strings.Join(escalationLines(rb), "; ")
	if got != "primary: Dana (+1-555); engineering lead: Fay (fay@example.com)" {
		t.Errorf("escalation = %q", got)
	}
}

func TestWriteResultGolden(t *testing.T) {
	res := &Result{
		Incident: "inc-20261126-101500-3f2a", App: "vibestack-app", Verdict: VerdictFailed, Duration: rollout.Duration(42 * time.Second),
		Steps: []StepResult{
			{Step: "app", Target: "deployment/vibestack-app", Verdict: stepDone, Detail: "revision 5 -> 3 (vibestack/app:1.4.0), healthy"},
			{Step: "config", Target: "configmap/vibestack-config", Verdict: stepSkipped, Detail: "every snapshot holds its current contents"},
			{Step: "db", Target: "database", Verdict: stepFailed, Error: "revert 3 -> 2: lock timeout\nmore"},
		},
		Notifications: []notify.Result{{Channel: "webhook", Kind: "started"}, {Channel: "slack", Kind: "started", Err: "timeout"}},
		Journal:       "/var/lib/rollback/inc-20261126-101500-3f2a.jsonl", Report: "/var/lib/rollback/inc-20261126-101500-3f2a.md",
		Escalation: []string{"primary: Dana (+1-555-0100)"},
	}
	var b bytes.Buffer
	WriteResult(&b, res)
	goldenfile.Assert(t, filepath.Join("testdata", "result_failed.golden"), b.Bytes())
}
