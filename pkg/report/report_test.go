package report

import (
	"bytes"
	goldenfile "github.com/vibestack/rollback/internal/golden"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
)

var t0 = time.Date(2026, 11, 26, 3, 31, 22, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

const inc = "inc-20261126-033122-7f3a"

func entries(es ...journal.Entry) []journal.Entry {
	for i := range es {
		es[i].Seq = i + 1
		es[i].Incident = inc
		if es[i].Actor == "" {
			es[i].Actor = "ana@laptop"
		}
	}
	return es
}

var opened = journal.Entry{Time: at(0), Action: journal.ActionIncidentOpened, Inputs: map[string]any{
	"app": "vibestack-app", "reason": "v2 crashes on start | checkout down", "steps": []string{"app", "config", "db"},
	"dryRun": false, "runbook": "rollback.yaml",
	"escalation": []string{"primary: Ana Ops (+1 555 0100)", "secondary: Bo SRE (@bo)", "engineeringLead: Cy Lead (cy@vibestack.dev)"},
}}

// fullIncident is a successful application + configuration + database rollback.
func fullIncident() []journal.Entry {
	return entries(
		opened,
		journal.Entry{Time: at(1), Action: "lock.acquired", Target: "lease/rollback-vibestack-app", Result: "ok"},
		journal.Entry{Time: at(2), Step: "notify", Action: "notify.sent", Inputs: map[string]any{"channel": "slack", "kind": "started", "attempts": 1}, Result: "ok"},
		journal.Entry{Time: at(2), Step: "notify", Action: "notify.failed", Inputs: map[string]any{"channel": "webhook", "kind": "started", "attempts": 3}, Result: "failed", Error: "webhook post (127.0.0.1:9): dial tcp 127.0.0.1:9: connect: connection refused"},
		journal.Entry{Time: at(4), Step: "preflight", Action: "preflight.completed", Result: "ok", After: map[string]any{
			"verdict": "GO",
			"checks": []map[string]any{
				{"name": "access sandbox/shop", "status": "ok", "detail": "all 14 verbs allowed"},
				{"name": "deployment web", "status": "ok", "detail": "revision 5, known-good 3"},
				{"name": "prometheus error_rate", "status": "unknown", "detail": "prometheus unreachable"},
			}}},
		journal.Entry{Time: at(5), Step: "health", Action: "health.checked", Inputs: map[string]any{"phase": "before"}, Result: "failed",
			After: []map[string]any{{"name": "http://web/healthz", "status": "failed", "detail": "HTTP 500"}}},
		journal.Entry{Time: at(6), Step: "app", Action: "step.started", Target: "deployment/web"},
		journal.Entry{Time: at(40), Step: "app", Action: "step.completed", Target: "deployment/web", Result: "ok",
			Before: map[string]any{"revision": 5, "images": []string{"vibestack/web:v2"}},
			After:  map[string]any{"revision": 6, "images": []string{"vibestack/web:v1"}, "rolledBackTo": 3}},
		journal.Entry{Time: at(41), Step: "config", Action: "step.completed", Target: "configmap/app-config", Result: "ok",
			Before: map[string]any{"version": "v2"}, After: map[string]any{"version": "v1"}},
		journal.Entry{Time: at(42), Actor: "bo@desk", Step: "flag", Action: "flag.disabled", Target: "new-checkout", Before: "true", After: "false", Result: "ok"},
		journal.Entry{Time: at(43), Actor: "bo@desk", Step: "flag", Action: "step.started", Target: "flag/dark-mode"},
		journal.Entry{Time: at(43), Actor: "bo@desk", Step: "flag", Action: "step.completed", Target: "flag/dark-mode", Before: "true", After: "false", Result: "ok",
			Inputs: map[string]any{"change": "disabled", "detail": `feature flag dark-mode disabled ("true" -> "false")`}},
		journal.Entry{Time: at(44), Actor: "bo@desk", Step: "flag", Action: "step.skipped", Target: "flag/dark-mode", Before: "false", After: "false", Result: "skipped",
			Inputs: map[string]any{"change": "disabled"}},
		journal.Entry{Time: at(60), Step: "db", Action: "step.completed", Target: "postgres/shop", Result: "ok",
			Before: map[string]any{"version": 3}, After: map[string]any{"version": 2, "backup": "backups/shop-20261126-033222.dump (verified)"}},
		journal.Entry{Time: at(70), Step: "health", Action: "health.checked", Inputs: map[string]any{"phase": "after"}, Result: "ok",
			After: []map[string]any{{"name": "http://web/healthz", "status": "ok", "detail": "HTTP 200"}}},
		journal.Entry{Time: at(71), Action: "knowngood.stamped", Target: "deployment/web", Result: "ok"},
		journal.Entry{Time: at(72), Step: "notify", Action: "notify.sent", Inputs: map[string]any{"channel": "slack", "kind": "succeeded", "attempts": 2}, Result: "ok"},
		journal.Entry{Time: at(73), Action: "lock.released", Result: "ok"},
		journal.Entry{Time: at(252), Action: journal.ActionIncidentClosed, Result: "ok", Inputs: map[string]any{"summary": "app, config and db back on the last known good state"}},
	)
}

// failedOpen is an incident that failed a step and is still open, with an
// action the report does not know.
func failedOpen() []journal.Entry {
	return entries(
		opened,
		journal.Entry{Time: at(10), Step: "db", Action: "step.failed", Target: "postgres/shop", Result: "failed", Error: "backup: pg_dump 15 is older than server 16: install pg_dump 16", Before: map[string]any{"version": 3}},
		journal.Entry{Time: at(11), Step: "guard", Action: "guard.tripped", Target: "deployment/web", Result: "failed", Inputs: map[string]any{"query": "error_rate"}},
	)
}

func TestWriteGolden(t *testing.T) {
	tests := []struct {
		name    string
		entries []journal.Entry
	}{
		{"full", fullIncident()},
		{"failed-open", failedOpen()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.entries); err != nil {
				t.Fatal(err)
			}
			goldenfile.Assert(t, filepath.Join("testdata", tt.name+".md"), buf.Bytes())
		})
	}
}

func TestWriteContainsEverySection(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, fullIncident()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range append([]string{"## Summary", "## Timeline", "## What changed", "## Health before and after",
		"## Notifications", "## Feature flags", "## Escalation contacts", "## Root cause analysis",
		"vibestack/web:v2", "vibestack/web:v1", "| version | v2 | v1 |", "backups/shop-", "connection refused",
		"new-checkout", "primary: Ana Ops", "| Duration | 4m12s |", `v2 crashes on start \| checkout down`}, RCAQuestions...) {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := Write(&buf, nil); err == nil {
		t.Error("Write(no entries) succeeded")
	}
}
