// Package lifecycle is the one incident lifecycle of rollback: every path
// that rolls back (rollback run, guard, the guard controller, drills) opens
// an incident here, takes the cluster locks of what it changes, records
// every action in the journal, notifies, closes the incident and writes its
// report, the same way.
//
//	in, err := lifecycle.Open(ctx, lifecycle.Options{App: "web", ...})
//	in.Record(ctx, journal.Entry{Action: journal.ActionIncidentOpened, ...})
//	ctx, err = in.Lock(ctx, lifecycle.LockTarget{...})  // ctx ends if a lock is lost
//	in.Notify(notify.Event{Kind: notify.KindStarted, ...})
//	in.Collect(ctx, "app", evidence.Workload{...})   // what the rollback destroys
//	... steps, each journaled before it writes ...
//	closed, err := in.Close(ctx, lifecycle.Closing{...})
//
// Record returns the journal's error: a step whose start cannot be
// journaled must not run. Notifications are sent in the background and
// never block; their results are journaled. Secrets are redacted from the
// journal and from notifications.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/redact"
)

// DefaultNotifyWait bounds the wait for notification deliveries at Close.
const DefaultNotifyWait = 20 * time.Second

// Options say what an incident is and what it may use.
type Options struct {
	// ID is the incident id: a new one (journal.NewID) when empty. With
	// Resume it names the incident to continue, whose journal must exist.
	ID     string
	Resume bool
	// App is the application: it names the journal's cluster mirror and
	// appears in notifications.
	App string
	// Actor is who acts: user@host, or the controller's identity.
	Actor string
	// Process tells this process's locks from another process of the same
	// Actor (clusterlock.NewProcessID); a fresh one when empty.
	Process string
	// JournalDir holds journals and reports (journal.DefaultDir() when empty).
	JournalDir string
	// Mirror, when set, receives a copy of every journal entry in the
	// cluster (the ConfigMaps of the application's namespace).
	Mirror corev1client.ConfigMapInterface
	// LockDuration is the lease duration of the locks (clusterlock.DefaultDuration when zero).
	LockDuration time.Duration
	// Channels receive the notifications; none is fine.
	Channels []notify.Channel
	// Secrets are values that never leave the process: they are redacted
	// from the journal and from notifications.
	Secrets []string
	// Clock is injected for tests (clock.RealClock{} when nil).
	Clock clock.WithTicker
	// Observer receives progress events (locks, warnings); nil discards them.
	Observer progress.Observer
	// AfterRecord, when set, is called after each entry is on disk. The
	// resume tests use it to kill the process at an exact point.
	AfterRecord func(journal.Entry)
	// NotifyWait bounds the wait for deliveries at Close (DefaultNotifyWait when zero).
	NotifyWait time.Duration
	// Evidence bounds the evidence Collect gathers
	// (evidence.DefaultLimits() when nil; a zero Budget collects none).
	Evidence *evidence.Limits
}

// Incident is an open incident.
type Incident struct {
	o     Options
	id    string
	j     *journal.Journal
	prior []journal.Entry
	disp  *notify.Dispatcher

	mu       sync.Mutex
	held     []*clusterlock.Held
	stopKeep context.CancelFunc
	closed   bool
	// collected is set once Collect ran.
	collected bool
}

// Open opens the incident's journal: a new one, or with Resume the
// existing one, whose entries Prior returns. It records nothing; the
// caller records incident.opened or incident.resumed with its inputs.
func Open(ctx context.Context, o Options) (*Incident, error) {
	o = o.withDefaults()
	in := &Incident{o: o, id: o.ID}
	if o.Resume {
		prior, err := journal.Read(o.JournalDir, o.ID)
		if err != nil || len(prior) == 0 {
			return nil, outcome.AsRefused(fmt.Errorf("resume incident %s: no journal in %s (%v): check the id with `rollback incident list`", o.ID, o.JournalDir, err))
		}
		in.prior = prior
	} else if in.id == "" {
		in.id = journal.NewID(o.Clock.Now())
	}
	jo := journal.Options{Dir: o.JournalDir, Incident: in.id, Clock: o.Clock, Actor: o.Actor, Redact: o.Secrets}
	if o.Mirror != nil {
		jo.Mirror = &journal.ConfigMapMirror{ConfigMaps: o.Mirror, App: o.App}
	}
	j, err := journal.Open(jo)
	if err != nil {
		return nil, fmt.Errorf("open journal of incident %s: %w", in.id, err)
	}
	in.j = j
	in.disp = &notify.Dispatcher{Channels: o.Channels, Clock: o.Clock, OnResult: in.recordNotification, Redactor: redact.New(o.Secrets...)}
	return in, nil
}

// withDefaults returns o with the defaults of its empty fields set.
func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.JournalDir == "" {
		o.JournalDir = journal.DefaultDir()
	}
	if o.Process == "" {
		o.Process = clusterlock.NewProcessID()
	}
	if o.NotifyWait <= 0 {
		o.NotifyWait = DefaultNotifyWait
	}
	return o
}

// ID returns the incident id.
func (in *Incident) ID() string { return in.id }

// JournalPath returns the journal file.
func (in *Incident) JournalPath() string { return in.j.Path() }

// ReportPath returns where Close writes the Markdown report.
func (in *Incident) ReportPath() string { return filepath.Join(in.o.JournalDir, in.id+".md") }

// Prior returns the entries the journal held when a resumed incident was opened.
func (in *Incident) Prior() []journal.Entry { return append([]journal.Entry(nil), in.prior...) }

// Entries returns every entry so far.
func (in *Incident) Entries() []journal.Entry { return in.j.Entries() }

// Actor returns who acts in this incident.
func (in *Incident) Actor() string { return in.o.Actor }

// Record appends e to the journal and returns the journal's error: a step
// whose step.started cannot be written must not run.
func (in *Incident) Record(ctx context.Context, e journal.Entry) error {
	written, err := in.j.Append(ctx, e)
	if err != nil {
		return fmt.Errorf("journal %s of incident %s: %w", e.Action, in.id, err)
	}
	if in.o.AfterRecord != nil {
		in.o.AfterRecord(written)
	}
	return nil
}

// Append records e like Log and returns it with the journal's error: an
// incident is the journal of the operations that journal entries of their
// own (the recovery of a pending Helm revision).
func (in *Incident) Append(ctx context.Context, e journal.Entry) (journal.Entry, error) {
	err := in.Record(ctx, e)
	if err != nil {
		in.warn("warning: %v", err)
	}
	return e, err
}

// Log appends e to the journal; a failure is reported as a warning event,
// never a reason to stop (for entries after a write, whose change stands).
func (in *Incident) Log(ctx context.Context, e journal.Entry) {
	if err := in.Record(ctx, e); err != nil {
		in.warn("warning: %v", err)
	}
}

func (in *Incident) warn(format string, args ...any) {
	emit(in.o, progress.Warning, "incident/"+in.id, fmt.Sprintf(format, args...))
}

func (in *Incident) info(target, format string, args ...any) {
	emit(in.o, progress.Info, target, fmt.Sprintf(format, args...))
}

// emit sends one progress event of the incident to o.Observer.
func emit(o Options, kind progress.Kind, target, msg string) {
	progress.Emit(o.Observer, progress.Event{Time: o.Clock.Now(), Kind: kind, Source: "incident", Target: target, Message: msg})
}

// Notify sends ev to every channel in the background, with the incident,
// application, actor and time filled in and the secrets redacted. It
// never blocks; each delivery's result is journaled.
func (in *Incident) Notify(ev notify.Event) {
	ev.Incident, ev.Time = in.id, in.o.Clock.Now()
	if ev.App == "" {
		ev.App = in.o.App
	}
	if ev.Actor == "" {
		ev.Actor = in.o.Actor
	}
	ev.Summary, ev.Reason = in.redact(ev.Summary), in.redact(ev.Reason)
	for i := range ev.Fields {
		ev.Fields[i].Value = in.redact(ev.Fields[i].Value)
	}
	in.disp.Send(ev)
}

// redact removes the secrets (and the credentials pkg/redact recognises) from s.
func (in *Incident) redact(s string) string { return redact.New(in.o.Secrets...).String(s) }

// recordNotification journals one delivery result.
func (in *Incident) recordNotification(res notify.Result) {
	e := journal.Entry{Step: "notify", Action: journal.ActionNotifySent, Result: journal.ResultOK,
		Inputs: map[string]any{"channel": res.Channel, "kind": res.Kind, "attempts": res.Attempts}}
	if res.Err != "" {
		e.Action, e.Result, e.Error = journal.ActionNotifyFailed, journal.ResultFailed, res.Err
	}
	in.Log(context.Background(), e)
}

// WaitNotifications waits (at most NotifyWait) for the notifications sent
// so far and returns their results.
func (in *Incident) WaitNotifications(ctx context.Context) []notify.Result {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.o.NotifyWait)
	defer cancel()
	return in.disp.Wait(wctx)
}

// errAlreadyClosed refuses a second Close.
var errAlreadyClosed = errors.New("incident already closed")
