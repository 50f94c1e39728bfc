package incident

import (
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/rollout"
)

// Verdicts of an incident run.
const (
	// VerdictRolledBack: every step done and the health checks pass.
	VerdictRolledBack = "rolled-back"
	// VerdictUnhealthy: every step done but a health check fails.
	VerdictUnhealthy = "unhealthy"
	// VerdictFailed: a step failed; the incident stays open for --resume.
	VerdictFailed = "failed"
	// VerdictRefused: nothing was changed (preflight NO-GO, lock held, cancelled).
	VerdictRefused = "refused"
	// VerdictDryRun: only planned.
	VerdictDryRun = "dry-run"
)

// Result is the outcome of an incident run.
type Result struct {
	// Incident is the incident id; empty for a dry run.
	Incident string `json:"incident,omitempty"`
	// App is the application.
	App string `json:"app"`
	// Verdict is rolled-back, unhealthy, failed, refused or dry-run.
	Verdict string `json:"verdict"`
	// Steps are the step results in order, one per step and target.
	Steps []StepResult `json:"steps"`
	// Health are the after-rollback health checks.
	Health []HealthCheck `json:"health,omitempty"`
	// Notifications are the delivery results.
	Notifications []notify.Result `json:"notifications,omitempty"`
	// Journal is the journal file; Report the Markdown report.
	Journal string `json:"journal,omitempty"`
	Report  string `json:"report,omitempty"`
	// Escalation lists whom to call.
	Escalation []string `json:"escalation,omitempty"`
	// Error is the error that ended the run.
	Error string `json:"error,omitempty"`
	// Duration is the run's wall time.
	Duration rollout.Duration `json:"duration"`
}

// StepResult is one step's outcome for one target.
type StepResult struct {
	// Step is app, config or db.
	Step string `json:"step"`
	// Target is deployment/NAME, configmap/NAME, secret/NAME or database.
	Target string `json:"target"`
	// Cluster is the kubeconfig context (empty for the database).
	Cluster string `json:"cluster,omitempty"`
	// Verdict is done, skipped, resumed-skip, planned or failed.
	Verdict string `json:"verdict"`
	// Detail says what happened in one line.
	Detail string `json:"detail,omitempty"`
	// Before and After are the state around the step.
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
	// Error is set when the step failed.
	Error string `json:"error,omitempty"`
	// Duration is how long the step took.
	Duration rollout.Duration `json:"duration"`
}

// HealthCheck is one after-rollback health check.
type HealthCheck struct {
	// Name is the URL or the Prometheus check's name.
	Name string `json:"name"`
	// Outcome is pass, fail or inconclusive.
	Outcome string `json:"outcome"`
	// Detail is the status or value.
	Detail string `json:"detail,omitempty"`
}
