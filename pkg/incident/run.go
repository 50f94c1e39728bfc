package incident

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/report"
	"github.com/vibestack/rollback/pkg/rollout"
)

// session is the state of one run while it executes.
type session struct {
	r       *Run
	id      string
	steps   []string
	reason  string
	db      DBTarget
	prior   []journal.Entry
	j       *journal.Journal
	jmu     sync.Mutex
	disp    *notify.Dispatcher
	res     *Result
	started time.Time
}

// Run executes the incident: see the package documentation.
func (r *Run) Run(ctx context.Context) (*Result, error) {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Runbook == nil || len(r.Clusters) == 0 {
		return nil, outcome.AsRefused(errors.New("run incident: a runbook with at least one cluster is required"))
	}
	s := &session{r: r, started: r.Clock.Now(), reason: r.Reason, db: r.DB,
		res: &Result{App: r.Runbook.App, Escalation: escalationLines(r.Runbook)}}
	defer func() { s.res.Duration = rollout.Duration(r.Clock.Since(s.started)) }()
	steps, err := r.stepOrder()
	if err != nil {
		return s.res, err
	}
	s.steps = steps
	if r.DryRun {
		return s.dryRun(ctx)
	}
	if err := s.open(); err != nil {
		return s.res, err
	}
	defer s.j.Close()
	err = s.execute(ctx)
	return s.res, s.finish(ctx, err)
}

// stepOrder returns the steps to run: Steps, else the runbook's, else the default.
func (r *Run) stepOrder() ([]string, error) {
	steps := r.Steps
	if len(steps) == 0 {
		steps = r.Runbook.Steps
	}
	if len(steps) == 0 {
		steps = []string{"app", "config", "db"}
	}
	seen := map[string]bool{}
	for _, st := range steps {
		switch st {
		case "app", "config", "db":
		default:
			return nil, outcome.AsRefused(fmt.Errorf("unknown step %q: use app, config and db (comma-separated)", st))
		}
		if seen[st] {
			return nil, outcome.AsRefused(fmt.Errorf("step %q named twice: name each step once", st))
		}
		seen[st] = true
	}
	if seen["db"] && r.Runbook.Database == nil {
		return nil, outcome.AsRefused(errors.New("step db: the runbook has no database section: add one or leave db out of --steps"))
	}
	return steps, nil
}

// open creates or reopens the journal and restores a resumed incident's inputs.
func (s *session) open() error {
	r := s.r
	dir := r.JournalDir
	if dir == "" {
		dir = journal.DefaultDir()
	}
	r.JournalDir = dir
	s.id = r.Resume
	if s.id != "" {
		prior, err := journal.Read(dir, s.id)
		if err != nil || len(prior) == 0 {
			return outcome.AsRefused(fmt.Errorf("resume incident %s: no journal in %s (%v): check the id with `rollback incident list`", s.id, dir, err))
		}
		s.prior = prior
		if err := s.restoreInputs(); err != nil {
			return err
		}
	} else if s.id = r.ID; s.id == "" {
		s.id = journal.NewID(r.Clock.Now())
	}
	c := r.Clusters[0]
	j, err := journal.Open(journal.Options{
		Dir: dir, Incident: s.id, Clock: r.Clock, Actor: r.Actor, Redact: r.Secrets,
		Mirror: &journal.ConfigMapMirror{ConfigMaps: c.Client.CoreV1().ConfigMaps(c.Namespace), App: r.Runbook.App},
	})
	if err != nil {
		return fmt.Errorf("open journal of incident %s: %w", s.id, err)
	}
	s.j = j
	s.res.Incident = s.id
	s.res.Journal = filepath.Join(dir, s.id+".jsonl")
	s.disp = &notify.Dispatcher{Channels: r.Channels, Clock: r.Clock, OnResult: s.recordNotification, Redactor: redact.New(r.Secrets...)}
	return nil
}

// execute runs the incident after the journal is open.
func (s *session) execute(ctx context.Context) error {
	r := s.r
	if s.r.Resume == "" {
		s.log(ctx, journal.Entry{Action: "incident.opened", Inputs: map[string]any{
			"app": r.Runbook.App, "reason": s.reason, "steps": s.steps, "runbook": r.RunbookPath,
			"escalation": s.res.Escalation, "db": s.db, "clusters": clusterNames(r.Clusters),
		}})
		s.progress("incident %s opened for %s (journal %s)", s.id, r.Runbook.App, s.res.Journal)
	} else {
		s.log(ctx, journal.Entry{Action: "incident.resumed", Inputs: map[string]any{"completed": s.completedSteps()}})
		s.progress("incident %s resumed; completed before: %s", s.id, orNone(strings.Join(s.completedSteps(), ", ")))
	}
	held, err := s.lock(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := held.KeepAlive(ctx); errors.Is(err, clusterlock.ErrLost) {
			cancel(fmt.Errorf("cluster lock lost while rolling back: another operator broke or took it; run `rollback lock status %s`: %w", r.Runbook.App, err))
		}
	}()
	defer s.unlock(held)
	s.notify(notify.Event{Kind: notify.KindStarted, Summary: fmt.Sprintf("Rollback of %s started by %s: %s", r.Runbook.App, r.Actor, orNone(s.reason))})
	if err := s.preflight(ctx); err != nil {
		return err
	}
	for _, step := range s.steps {
		if err := s.runStep(ctx, step); err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				err = fmt.Errorf("%w (%v)", err, cause)
			}
			return err
		}
		if r.AfterStep != nil {
			r.AfterStep(step)
		}
		if err := ctx.Err(); err != nil {
			return outcome.AsRefused(fmt.Errorf("interrupted after step %s; nothing more was changed: continue with `rollback run --resume %s`: %w", step, s.id, context.Cause(ctx)))
		}
	}
	return s.healthAfter(ctx)
}

// lock takes the application's cluster lock in the first cluster.
func (s *session) lock(ctx context.Context) (*clusterlock.Held, error) {
	r := s.r
	c := r.Clusters[0]
	l := &clusterlock.Lock{Leases: c.Client.CoordinationV1().Leases(c.Namespace), Clock: r.Clock,
		App: r.Runbook.App, Holder: r.Actor, Incident: s.id, Duration: r.LockDuration}
	held, err := l.Acquire(ctx)
	if apierrors.IsForbidden(err) {
		err = fmt.Errorf("%w: this identity may not take the cluster lock; run `rollback preflight` to see every permission the rollback needs", err)
	}
	if err != nil {
		s.log(ctx, journal.Entry{Action: "lock.refused", Result: journal.ResultFailed, Error: err.Error()})
		s.res.Verdict = VerdictRefused
		return nil, err
	}
	info := held.Info()
	s.log(ctx, journal.Entry{Action: "lock.acquired", Target: "lease/" + info.Lease, Result: journal.ResultOK})
	s.progress("cluster lock %s/%s held by %s", c.Namespace, info.Lease, r.Actor)
	return held, nil
}

// unlock releases the lock with a fresh context (the run's may be cancelled).
func (s *session) unlock(held *clusterlock.Held) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := held.Release(ctx); err != nil {
		s.log(ctx, journal.Entry{Action: "lock.released", Result: journal.ResultFailed, Error: err.Error()})
		return
	}
	s.log(ctx, journal.Entry{Action: "lock.released", Result: journal.ResultOK})
}

// finish records the outcome, notifies, waits for notifications, writes the report.
func (s *session) finish(ctx context.Context, runErr error) error {
	r := s.r
	ctx = context.WithoutCancel(ctx)
	switch {
	case runErr == nil && s.res.Verdict == "":
		s.res.Verdict = VerdictRolledBack
	case runErr != nil && s.res.Verdict == "":
		s.res.Verdict = VerdictFailed
	}
	if runErr != nil {
		s.res.Error = runErr.Error()
	}
	kind, summary := notify.KindSucceeded, fmt.Sprintf("Rollback of %s done: %s", r.Runbook.App, s.res.Verdict)
	if s.res.Verdict != VerdictRolledBack {
		kind = notify.KindFailed
		summary = fmt.Sprintf("Rollback of %s %s: %s", r.Runbook.App, s.res.Verdict, firstLine(s.res.Error))
	}
	reportPath := filepath.Join(r.JournalDir, s.id+".md")
	s.notify(notify.Event{Kind: kind, Summary: summary, ReportURL: reportPath, Escalation: s.escalationIfFailed()})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	s.res.Notifications = s.disp.Wait(wctx)
	cancel()
	result := journal.ResultOK
	if s.res.Verdict != VerdictRolledBack {
		result = journal.ResultFailed
	}
	if s.res.Verdict != VerdictFailed {
		s.log(ctx, journal.Entry{Action: "incident.closed", Result: result, Inputs: map[string]any{"summary": summary, "verdict": s.res.Verdict}})
	} else {
		s.log(ctx, journal.Entry{Action: "incident.interrupted", Result: result, Error: s.res.Error,
			Inputs: map[string]any{"resume": fmt.Sprintf("rollback run --resume %s", s.id)}})
	}
	if err := s.writeReport(reportPath); err != nil {
		s.progress("warning: could not write the report: %v", err)
	} else {
		s.res.Report = reportPath
	}
	for _, e := range s.j.MirrorErrors() {
		s.progress("warning: cluster mirror of the journal: %v", e)
	}
	if runErr != nil {
		return s.withEscalation(runErr)
	}
	if s.res.Verdict == VerdictUnhealthy {
		return s.withEscalation(outcome.AsUnhealthy(errors.New("every step is done but the health checks fail")))
	}
	return nil
}

// writeReport writes the Markdown report of the journal so far.
func (s *session) writeReport(path string) error {
	return report.WriteFile(path, s.j.Entries())
}

// log appends e to the journal; a journal write failure is printed, not fatal.
func (s *session) log(ctx context.Context, e journal.Entry) {
	s.jmu.Lock()
	defer s.jmu.Unlock()
	if _, err := s.j.Append(ctx, e); err != nil {
		s.progress("warning: journal: %v", err)
	}
}

// recordNotification journals one delivery result.
func (s *session) recordNotification(res notify.Result) {
	e := journal.Entry{Step: "notify", Action: "notify.sent", Result: journal.ResultOK,
		Inputs: map[string]any{"channel": res.Channel, "kind": res.Kind, "attempts": res.Attempts}}
	if res.Err != "" {
		e.Action, e.Result, e.Error = "notify.failed", journal.ResultFailed, res.Err
	}
	s.log(context.Background(), e)
}

// notify sends ev to every channel in the background.
func (s *session) notify(ev notify.Event) {
	ev.Incident, ev.App, ev.Actor, ev.Time = s.id, s.r.Runbook.App, s.r.Actor, s.r.Clock.Now()
	if ev.Reason == "" {
		ev.Reason = s.reason
	}
	s.disp.Send(ev)
}

// progress prints one human line.
func (s *session) progress(format string, args ...any) {
	if s.r.Progress != nil {
		fmt.Fprintf(s.r.Progress, format+"\n", args...)
	}
}

// withEscalation adds whom to call to a failure, keeping its exit code.
func (s *session) withEscalation(err error) error {
	if len(s.res.Escalation) == 0 {
		return err
	}
	return fmt.Errorf("%w\nescalate: %s", err, strings.Join(s.res.Escalation, "; "))
}

// escalationIfFailed returns the contacts for failure notifications.
func (s *session) escalationIfFailed() []string {
	if s.res.Verdict == VerdictRolledBack {
		return nil
	}
	return s.res.Escalation
}

func clusterNames(cs []Cluster) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Context+"/"+c.Namespace)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
