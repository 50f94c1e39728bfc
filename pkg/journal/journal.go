// Package journal records every action of an incident as JSON lines, one
// fsync per entry, in a local file, and mirrors them into the cluster so a
// second engineer sees the same timeline.
package journal

import (
	"context"
	"time"
)

// Results of an entry.
const (
	ResultOK      = "ok"
	ResultSkipped = "skipped"
	ResultFailed  = "failed"
	// ResultAbandoned ends an incident closed by hand (`rollback incident
	// close`) whose work nobody finished: what it changed stays as it was
	// left.
	ResultAbandoned = "abandoned"
)

// Action says what an entry records, dotted: the subject, then what happened.
type Action string

// The actions of an incident's timeline: every path (rollback run, guard,
// the controller, drills and the single commands) writes these and no others.
const (
	// ActionIncidentOpened opens an incident; its Inputs hold what the
	// incident set out to do (app, steps, reason, trigger).
	ActionIncidentOpened Action = "incident.opened"
	// ActionIncidentResumed records that a new process continues the incident.
	ActionIncidentResumed Action = "incident.resumed"
	// ActionIncidentClosed ends the incident (Result ok or failed; closed by
	// hand, Step "close" and Result ok, failed or abandoned, with the
	// reason and the outcome in Inputs).
	ActionIncidentClosed Action = "incident.closed"
	// ActionIncidentInterrupted ends a process's part of an incident that
	// can be resumed (`rollback run --resume ID`).
	ActionIncidentInterrupted Action = "incident.interrupted"

	// ActionLockAcquired, ActionLockRefused, ActionLockLost and
	// ActionLockReleased record the cluster lock (Target lease/NAME).
	ActionLockAcquired Action = "lock.acquired"
	ActionLockRefused  Action = "lock.refused"
	ActionLockLost     Action = "lock.lost"
	ActionLockReleased Action = "lock.released"

	// ActionPreflightCompleted records the checklist's verdict.
	ActionPreflightCompleted Action = "preflight.completed"

	// ActionStepStarted is journaled before a step or target writes
	// anything; Inputs["plan"] is what it will do, so that a resume does the
	// same. A step whose start cannot be journaled does not run.
	ActionStepStarted Action = "step.started"
	// ActionStepWritten records that a target's change landed (an undo's
	// PATCH, restored data, a restart, reverted migrations).
	ActionStepWritten Action = "step.written"
	// ActionStepVerifying records that the verification of a written
	// target starts.
	ActionStepVerifying Action = "step.verifying"
	// ActionStepCompleted, ActionStepSkipped, ActionStepFailed and
	// ActionStepCancelled end a step or a target.
	ActionStepCompleted Action = "step.completed"
	ActionStepSkipped   Action = "step.skipped"
	ActionStepFailed    Action = "step.failed"
	ActionStepCancelled Action = "step.cancelled"

	// ActionBackupTaken records a verified database backup taken ahead of
	// the db step (rollback run starts it with the incident).
	ActionBackupTaken Action = "backup.taken"

	// ActionHealthChecked records health checks (Inputs["phase"] before or after).
	ActionHealthChecked Action = "health.checked"

	// ActionNotifySent and ActionNotifyFailed record one notification delivery.
	ActionNotifySent   Action = "notify.sent"
	ActionNotifyFailed Action = "notify.failed"

	// ActionHelmPendingRecovered and ActionHelmPendingRecoveryFailed record
	// a pending-* Helm revision marked failed (rollback helm undo
	// --recover-pending); Before holds the revision, status and since when.
	ActionHelmPendingRecovered      Action = "helm.pending-recovered"
	ActionHelmPendingRecoveryFailed Action = "helm.pending-recovery-failed"

	// ActionGuardFailed records why guard judged a release bad.
	ActionGuardFailed Action = "guard.failed"

	// ActionEvidenceCollected records the evidence collected before a
	// rollback's first write (pkg/evidence): the bundle beside the journal,
	// what was cut, and the summary the report's root cause analysis shows.
	// Result skipped: collection was turned off.
	ActionEvidenceCollected Action = "evidence.collected"

	// ActionDrillStarted, ActionDrillDetected and ActionDrillCompleted
	// record a drill's bad release, its detection and its outcome.
	ActionDrillStarted   Action = "drill.started"
	ActionDrillDetected  Action = "drill.detected"
	ActionDrillCompleted Action = "drill.completed"
)

// Entry is one action in an incident's timeline.
type Entry struct {
	// Seq numbers the entries of one incident from 1; set by Append.
	Seq int `json:"seq"`
	// Time is when the entry was written; set by Append from the journal's clock.
	Time time.Time `json:"time"`
	// Incident is the incident id; set by Append.
	Incident string `json:"incident"`
	// Actor is who ran the action (user@host, or the controller's identity).
	Actor string `json:"actor,omitempty"`
	// Step is the step the action belongs to: preflight, app, config, db, notify, flag, guard, drill.
	Step string `json:"step,omitempty"`
	// Action says what happened (one of the Action constants).
	Action Action `json:"action"`
	// Target is the object acted on, such as deployment/web or configmap/app-config.
	Target string `json:"target,omitempty"`
	// Inputs are the action's inputs (flags, reason); never secret values.
	Inputs map[string]any `json:"inputs,omitempty"`
	// Before is the state before the action (revision, images, versions).
	Before any `json:"before,omitempty"`
	// After is the state after it.
	After any `json:"after,omitempty"`
	// Result is ok, skipped or failed.
	Result string `json:"result,omitempty"`
	// Error is the error message of a failed action.
	Error string `json:"error,omitempty"`
}

// Mirror receives every appended entry, for example to copy it into the cluster.
type Mirror interface {
	// Mirror copies e somewhere others can read it.
	Mirror(ctx context.Context, e Entry) error
}

// String returns the action's dotted name.
func (a Action) String() string { return string(a) }
