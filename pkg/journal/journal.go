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
	// Action says what happened, dotted: incident.opened, step.started, step.completed,
	// step.failed, notify.sent, notify.failed, flag.disabled, incident.closed, ...
	Action string `json:"action"`
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
