package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
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
	in      *lifecycle.Incident
	res     *Result
	started time.Time
	// abandon is set when a resume is refused the lock: the incident is
	// another process's, so this one leaves it open and writes no report.
	abandon bool

	mu sync.Mutex
	// doneNow are the step/target pairs finished in this process.
	doneNow map[string]bool
	// mergedResults are the config targets the app step restored (mergeConfig).
	mergedResults map[string]StepResult
	// early is the database backup started at the beginning (nil: none).
	early *earlyBackup
}

// Run executes the incident: see the package documentation.
func (r *Run) Run(ctx context.Context) (*Result, error) {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.Verification = r.Verification.WithClock(r.Clock)
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
	if err := s.open(ctx); err != nil {
		return s.res, err
	}
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
	if seen["app"] && len(r.Runbook.HelmReleases) > 0 && r.Releases == nil {
		return nil, outcome.AsRefused(errNoReleases)
	}
	if seen["db"] && r.Runbook.Database == nil {
		return nil, outcome.AsRefused(errors.New("step db: the runbook has no database section: add one or leave db out of --steps"))
	}
	return steps, nil
}

// open opens the incident (or takes the caller's) and restores a resumed
// incident's inputs.
func (s *session) open(ctx context.Context) error {
	r := s.r
	if r.JournalDir == "" {
		r.JournalDir = journal.DefaultDir()
	}
	if r.Incident != nil {
		s.in = r.Incident
	} else {
		c := r.Clusters[0]
		in, err := lifecycle.Open(ctx, lifecycle.Options{
			ID: firstNonEmpty(r.Resume, r.ID), Resume: r.Resume != "", App: r.Runbook.App, Actor: r.Actor, Process: r.Process,
			JournalDir: r.JournalDir, Mirror: c.Client.CoreV1().ConfigMaps(c.Namespace), LockDuration: r.LockDuration,
			Channels: r.Channels, Secrets: r.Secrets, Clock: r.Clock, Observer: r.Observer, AfterRecord: r.AfterRecord,
			Evidence: r.Evidence,
		})
		if err != nil {
			return err
		}
		s.in = in
	}
	s.id = s.in.ID()
	s.prior = s.in.Prior()
	s.res.Incident = s.id
	s.res.Journal = s.in.JournalPath()
	if r.Resume != "" {
		if err := s.restoreInputs(); err != nil {
			s.in.Abandon()
			return err
		}
	}
	return nil
}

// execute runs the incident after the journal is open.
func (s *session) execute(ctx context.Context) error {
	r := s.r
	if r.Resume != "" {
		// The incident may still run in another process: take the locks
		// before writing anything into its journal.
		lctx, err := s.in.Lock(ctx, s.lockTargets()...)
		if err != nil {
			s.res.Verdict, s.abandon = VerdictRefused, true
			return err
		}
		ctx = lctx
	}
	if s.r.Resume == "" {
		if err := s.in.Record(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{
			"app": r.Runbook.App, "reason": s.reason, "steps": s.steps, "runbook": r.RunbookPath, "trigger": "run",
			"escalation": s.res.Escalation, "db": s.db, "clusters": clusterNames(r.Clusters),
		}}); err != nil {
			s.res.Verdict = VerdictRefused
			return outcome.AsRefused(fmt.Errorf("%w; nothing was changed: free disk space in %s or pass --journal-dir", err, r.JournalDir))
		}
		s.progress("incident %s opened for %s (journal %s)", s.id, r.Runbook.App, s.res.Journal)
	} else {
		if err := s.in.Record(ctx, journal.Entry{Action: journal.ActionIncidentResumed, Inputs: map[string]any{"completed": s.completedSteps()}}); err != nil {
			s.res.Verdict = VerdictRefused
			return outcome.AsRefused(fmt.Errorf("%w; nothing was changed", err))
		}
		s.progress("incident %s resumed; completed before: %s", s.id, orNone(strings.Join(s.completedSteps(), ", ")))
	}
	if r.Resume == "" {
		lctx, err := s.in.Lock(ctx, s.lockTargets()...)
		if err != nil {
			s.res.Verdict = VerdictRefused
			return err
		}
		ctx = lctx
	}
	s.notify(notify.Event{Kind: notify.KindStarted, Summary: fmt.Sprintf("Rollback of %s started by %s: %s", r.Runbook.App, r.Actor, orNone(s.reason))})
	// The evidence is collected while preflight runs (both only read),
	// and kept before the first step writes.
	collected := s.startEvidence(ctx)
	err := s.preflight(ctx)
	collected()
	if err != nil {
		return err
	}
	s.startEarlyBackup(ctx)
	defer s.stopEarlyBackup()
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

// lockTargets are the locks of a run: the application in the first
// cluster, and every workload and Helm release of the runbook in every
// cluster, so that guard and the controller (which lock the workload they
// guard, and its release) never change one while the run does.
func (s *session) lockTargets() []lifecycle.LockTarget {
	r := s.r
	c0 := r.Clusters[0]
	out := []lifecycle.LockTarget{{Leases: c0.Client.CoordinationV1().Leases(c0.Namespace), Namespace: c0.Namespace, Name: r.Runbook.App}}
	for _, c := range r.Clusters {
		for _, w := range s.workloads() {
			out = append(out, lifecycle.Workload(c.Client.CoordinationV1().Leases(c.Namespace), c.Namespace, w.Kind.Lower(), w.Name))
		}
		for _, h := range r.Runbook.HelmReleases {
			ns := h.NamespaceIn(c.Namespace)
			out = append(out, lifecycle.Workload(c.Client.CoordinationV1().Leases(ns), ns, "helmrelease", h.Name))
		}
	}
	return out
}

// finish records the outcome, notifies, waits for notifications, writes the report.
func (s *session) finish(ctx context.Context, runErr error) error {
	r := s.r
	switch {
	case runErr == nil && s.res.Verdict == "":
		s.res.Verdict = VerdictRolledBack
	case runErr != nil && s.res.Verdict == "":
		s.res.Verdict = VerdictFailed
	}
	if runErr != nil {
		s.res.Error = runErr.Error()
	}
	if s.abandon {
		s.in.Abandon()
		return runErr
	}
	kind, summary := notify.KindSucceeded, fmt.Sprintf("Rollback of %s done: %s", r.Runbook.App, s.res.Verdict)
	if s.res.Verdict != VerdictRolledBack {
		kind = notify.KindFailed
		summary = fmt.Sprintf("Rollback of %s %s: %s", r.Runbook.App, s.res.Verdict, firstLine(s.res.Error))
	}
	if r.BeforeClose != nil {
		r.BeforeClose(ctx, s.in, s.res)
	}
	closing := lifecycle.Closing{Action: journal.ActionIncidentClosed, Result: journal.ResultOK,
		Inputs: map[string]any{"summary": summary, "verdict": s.res.Verdict},
		Notify: &notify.Event{Kind: kind, Summary: summary, Escalation: s.escalationIfFailed(), Reason: s.reason}}
	if s.res.Verdict != VerdictRolledBack {
		closing.Result = journal.ResultFailed
	}
	if s.res.Verdict == VerdictFailed {
		closing.Action, closing.Error = journal.ActionIncidentInterrupted, s.res.Error
		closing.Inputs = map[string]any{"resume": fmt.Sprintf("rollback run --resume %s", s.id)}
	}
	closed, err := s.in.Close(ctx, closing)
	if closed != nil {
		s.res.Notifications = closed.Notifications
		s.res.Report = closed.Report
	}
	if err != nil {
		s.progress("warning: close the journal: %v", err)
	}
	if runErr != nil {
		return s.withEscalation(runErr)
	}
	if s.res.Verdict == VerdictUnhealthy {
		return s.withEscalation(outcome.AsUnhealthy(errors.New("every step is done but the health checks fail")))
	}
	return nil
}

// record journals e and returns the journal's error (see lifecycle.Incident.Record).
func (s *session) record(ctx context.Context, e journal.Entry) error { return s.in.Record(ctx, e) }

// log journals e; a failure is a warning, never a reason to stop.
func (s *session) log(ctx context.Context, e journal.Entry) { s.in.Log(ctx, e) }

// notify sends ev to every channel in the background.
func (s *session) notify(ev notify.Event) {
	if ev.Reason == "" {
		ev.Reason = s.reason
	}
	s.in.Notify(ev)
}

// progress reports one human line.
func (s *session) progress(format string, args ...any) {
	progress.Emit(s.r.Observer, progress.Event{Time: s.r.Clock.Now(), Kind: progress.Info, Source: "incident", Target: "incident/" + s.id, Message: fmt.Sprintf(format, args...)})
}

// withEscalation adds whom to call to a failure, keeping its kind.
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

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
