package lifecycle

import (
	"context"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/report"
)

// Closing is how an incident ends.
type Closing struct {
	// Action is journal.ActionIncidentClosed (the incident is over) or
	// journal.ActionIncidentInterrupted (it can be resumed).
	Action journal.Action
	// Result is ok or failed; Error says why it failed.
	Result string
	Error  string
	// Step names the path that closes it (guard, drill, ...) in the entry.
	Step string
	// Inputs are the closing entry's inputs (summary, verdict, ...).
	Inputs map[string]any
	// Notify, when set, is the last notification, sent before the wait.
	Notify *notify.Event
}

// Closed is what Close did.
type Closed struct {
	// Report is the Markdown report's path; empty when it could not be written.
	Report string
	// Notifications are the delivery results of every notification sent.
	Notifications []notify.Result
	// Warnings are problems that did not stop the close (report, mirror).
	Warnings []string
}

// Close ends the incident: it sends the last notification, waits (bounded)
// for the deliveries, releases the locks, records the closing entry,
// writes the report atomically and closes the journal. It runs even when
// ctx is cancelled (an interrupt must still leave a record).
func (in *Incident) Close(ctx context.Context, c Closing) (*Closed, error) {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil, errAlreadyClosed
	}
	in.closed = true
	in.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	out := &Closed{}
	if c.Notify != nil {
		ev := *c.Notify
		if ev.ReportURL == "" {
			ev.ReportURL = in.ReportPath()
		}
		in.Notify(ev)
	}
	out.Notifications = in.WaitNotifications(ctx)
	if c.Action == "" {
		c.Action = journal.ActionIncidentClosed
	}
	in.unlock()
	in.Log(ctx, journal.Entry{Step: c.Step, Action: c.Action, Result: c.Result, Error: c.Error, Inputs: c.Inputs})
	// The report reads the mirror (every writer's entries): let it catch up.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	in.j.Flush(fctx)
	cancel()
	if err := report.WriteFile(in.ReportPath(), in.reportEntries(ctx)); err != nil {
		out.Warnings = append(out.Warnings, "could not write the report: "+err.Error())
		in.warn("warning: could not write the report: %v", err)
	} else {
		out.Report = in.ReportPath()
	}
	for _, e := range in.j.MirrorErrors() {
		out.Warnings = append(out.Warnings, "cluster mirror of the journal: "+e.Error())
		in.warn("warning: cluster mirror of the journal: %v", e)
	}
	return out, in.j.Close()
}

// Abandon releases the locks and closes the journal without a closing
// entry or report: for a process that stops (lost leadership) and leaves
// the incident to be resumed by another one.
func (in *Incident) Abandon() {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return
	}
	in.closed = true
	in.mu.Unlock()
	in.unlock()
	_ = in.j.Close()
}

// reportEntries are the entries the report is made of: the cluster
// mirror's when it holds more than this process's journal (another process,
// a previous controller leader, wrote part of the incident), else the
// journal's.
func (in *Incident) reportEntries(ctx context.Context) []journal.Entry {
	entries := in.j.Entries()
	if in.o.Mirror == nil {
		return entries
	}
	if m, err := journal.ReadMirror(ctx, in.o.Mirror, in.id); err == nil && len(m) > len(entries) {
		return m
	}
	return entries
}
