// Package notify tells people about a rollback: Slack incoming webhooks,
// HMAC-signed generic webhooks and PagerDuty Events v2. Messages are sent in
// the background with retry and timeout; a failed notification never blocks
// or fails the rollback, it is reported to a callback (the journal).
package notify

import (
	"context"
	"time"
)

// Kinds of events.
const (
	KindStarted   = "started"
	KindProgress  = "progress"
	KindSucceeded = "succeeded"
	KindFailed    = "failed"
)

// Event is one thing to tell people about a rollback.
type Event struct {
	// Incident is the incident id.
	Incident string `json:"incident"`
	// App is the application's name.
	App string `json:"app"`
	// Kind is started, progress, succeeded or failed.
	Kind string `json:"kind"`
	// Actor is who runs the rollback (user@host).
	Actor string `json:"actor,omitempty"`
	// Reason is why (--reason).
	Reason string `json:"reason,omitempty"`
	// Summary is one line saying what happened.
	Summary string `json:"summary"`
	// Step is the step a progress event is about (app, config, db).
	Step string `json:"step,omitempty"`
	// Fields are extra facts shown as a list: revisions, versions, status.
	Fields []Field `json:"fields,omitempty"`
	// ReportURL is a link or path to the incident report.
	ReportURL string `json:"reportURL,omitempty"`
	// Escalation lists contacts to call, one "role: name (contact)" per line.
	Escalation []string `json:"escalation,omitempty"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
}

// Field is one labelled fact of an Event.
type Field struct {
	// Name labels the fact, such as "revision".
	Name string `json:"name"`
	// Value is the fact, such as "5 -> 3".
	Value string `json:"value"`
}

// Channel is one notification destination.
type Channel interface {
	// Name names the channel for output and the journal: slack, webhook, pagerduty.
	Name() string
	// Send delivers ev once; the Dispatcher retries.
	Send(ctx context.Context, ev Event) error
	// Check says whether the destination is reachable without sending a message.
	Check(ctx context.Context) error
}

// Result is the outcome of delivering one event to one channel.
type Result struct {
	// Channel is the channel's name.
	Channel string `json:"channel"`
	// Kind is the event's kind.
	Kind string `json:"kind"`
	// Attempts counts the tries.
	Attempts int `json:"attempts"`
	// Err is the last error; empty when delivered. Never contains a secret URL or key.
	Err string `json:"error,omitempty"`
	// Time is when delivery finished.
	Time time.Time `json:"time"`
}
