package guardcontroller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/rollout"
)

// start writes the state a decision needs and starts its task.
func (c *Controller) start(ctx context.Context, d *rollout.WorkloadInfo, cur Current, st *State, s Settings, dec Decision) error {
	key := keyOf(d.Workload)
	now := c.Clock.Now().UTC()
	var bakeStarted time.Time
	switch dec.Action {
	case ActGuard:
		next := State{Hash: cur.Hash, Revision: cur.Revision, Phase: PhaseWatching, By: c.Identity, Updated: now}
		nd, err := WriteState(ctx, rollout.NewClients(c.Client, d.Namespace), d, next)
		if err != nil {
			return err
		}
		d = nd
		st = &next
		c.rec.event(ctx, d, "Normal", ReasonGuardStarted, "guarding revision %d (%s %s): bake %s, interval %s, failure limit %d", cur.Revision, hashLabel(d.Kind), cur.Hash, s.Bake, s.Interval, s.FailureLimit)
	case ActResume:
		if st.BakeStarted != nil {
			bakeStarted = *st.BakeStarted
		}
		c.rec.event(ctx, d, "Normal", ReasonGuardResumed, "resuming the guard of revision %d left in phase %s by %s%s", cur.Revision, st.Phase, st.By, sinceBake(bakeStarted, now))
	case ActRollback:
		c.rec.event(ctx, d, "Warning", ReasonGuardResumed, "revision %d was judged bad by %s but its rollback never landed: rolling back", cur.Revision, st.By)
	case ActVerify:
		c.rec.event(ctx, d, "Normal", ReasonVerifying, "the rollback of revision %d by %s landed; verifying it (no second rollback)", st.Revision, st.By)
	}
	tctx, cancel := context.WithCancel(ctx)
	t := &task{Running: Running{Hash: cur.Hash, Revision: cur.Revision, Started: now}, cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		cancel()
		return nil
	}
	c.running[key] = t
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer close(t.done)
		defer cancel()
		defer func() {
			c.mu.Lock()
			if c.running[key] == t {
				delete(c.running, key)
			}
			c.mu.Unlock()
			if ctx.Err() == nil {
				c.queue.Add(key) // decide again with the final state
			}
		}()
		select {
		case c.sem <- struct{}{}:
			defer func() { <-c.sem }()
		case <-tctx.Done():
			return
		}
		w := &work{c: c, d: d, cur: cur, s: s, state: *st}
		switch dec.Action {
		case ActGuard, ActResume:
			w.guard(tctx, bakeStarted)
		case ActRollback:
			w.rollback(tctx)
		case ActVerify:
			w.verify(tctx)
		}
	}()
	return nil
}

// sinceBake describes how far into the bake a resumed guard is.
func sinceBake(started, now time.Time) string {
	if started.IsZero() {
		return ""
	}
	return fmt.Sprintf(", bake started %s ago", now.Sub(started).Round(time.Second))
}

// work is one task's job on one workload.
type work struct {
	c   *Controller
	d   *rollout.WorkloadInfo
	cur Current
	s   Settings

	mu    sync.Mutex
	state State // the latest state this task knows it wrote (or resumed)
}

func (w *work) key() string { return keyOf(w.d.Workload) }

// workload names the task's workload as kubectl does (statefulset/db).
func (w *work) workload() string { return w.d.Workload.String() }

// snapshot returns the task's state.
func (w *work) snapshot() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// clients returns the rollout clients of the workload's namespace with the
// rollback marker on the client of its kind.
func (w *work) clients() (rollout.Clients, *rollbackMarker) {
	cl := rollout.NewClients(w.c.Client, w.d.Namespace)
	m := &rollbackMarker{raw: cl, w: w.d.Workload, state: func() State {
		s := w.snapshot()
		s.Hash, s.Revision, s.By, s.Updated = w.cur.Hash, w.cur.Revision, w.c.Identity, w.c.Clock.Now().UTC()
		return s
	}}
	return m.withMarker(cl), m
}

// newGuard returns the guard of the task's workload, with the controller's
// verification, journal, locks and notifications.
func (w *work) newGuard(ctx context.Context, cl rollout.Clients) *guard.Guard {
	c, s := w.c, w.s
	return &guard.Guard{
		Clients: cl, Namespace: w.d.Namespace, Observer: c.rec.observer(w.key()),
		Verification: rollout.Verification{Timeout: s.Timeout, Settle: s.Settle, CheckURLs: s.CheckURLs, HTTPClient: c.HTTPClient, Clock: c.Clock},
		Bake:         s.Bake, Interval: s.Interval, PrometheusURL: s.PrometheusURL, Checks: s.Checks,
		FailureLimit: s.FailureLimit, ConsecutiveErrorLimit: s.ConsecutiveErrorLimit, OnInconclusive: s.OnInconclusive,
		Incidents: func(ctx context.Context, id string) (*lifecycle.Incident, error) {
			return w.openIncident(ctx, id, false)
		},
		Leases: c.Client.CoordinationV1().Leases(w.d.Namespace),
		App:    w.d.Name, Actor: c.Identity,
		OnPhase:       func(phase string, at time.Time) { w.setPhase(ctx, phase, at) },
		Releases:      c.Releases,
		ReleaseLeases: func(ns string) coordinationv1client.LeaseInterface { return c.Client.CoordinationV1().Leases(ns) },
	}
}

// openIncident opens (or with resume continues) the incident of the task's
// workload: journal mirrored to a ConfigMap in its namespace, the
// controller's notification channels, and the incident id remembered in
// the state so that the next leader continues it.
func (w *work) openIncident(ctx context.Context, id string, resume bool) (*lifecycle.Incident, error) {
	c := w.c
	in, err := lifecycle.Open(ctx, lifecycle.Options{
		ID: id, Resume: resume, App: w.d.Name, Actor: c.Identity, Process: c.process,
		JournalDir: c.JournalDir, Mirror: c.Client.CoreV1().ConfigMaps(w.d.Namespace), LockDuration: c.LockDuration,
		Channels: c.Channels, Secrets: append(secretsOf(w.s), c.Secrets...), Clock: c.Clock, Observer: c.rec.observer(w.key()),
		Evidence: c.Evidence,
	})
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.state.Incident = in.ID()
	w.mu.Unlock()
	return in, nil
}

// setPhase persists a phase pkg/guard reports (baking, rolling-back).
func (w *work) setPhase(ctx context.Context, phase string, at time.Time) {
	at = at.UTC()
	ok := w.update(ctx, func(s *State) bool {
		if s.Phase == phase {
			return false
		}
		s.Phase = phase
		if phase == PhaseBaking {
			s.BakeStarted = &at
		}
		if phase == PhaseRollingBack && w.c.Releases != nil {
			if o := ownership.HelmReleaseOf(string(w.d.Kind), w.d.Object); o != nil {
				// Helm's rollback cannot carry the state in its write: a
				// controller that takes over asks the release.
				s.Release = o.Name
			}
		}
		return true
	})
	if ok && phase == PhaseBaking {
		w.c.rec.event(ctx, w.d, "Normal", ReasonBakeStarted, "revision %d rolled out; bake of %s started", w.cur.Revision, w.s.Bake)
	}
	if ok && phase == PhaseRollingBack {
		w.c.rec.event(ctx, w.d, "Warning", ReasonRollingBack, "revision %d is bad: rolling back to the last known good revision", w.cur.Revision)
	}
}

// update applies change to the persisted state of the task's revision with
// the test-op write, re-reading on a concurrent change. It writes nothing
// when the state belongs to another revision or change returns false.
func (w *work) update(ctx context.Context, change func(*State) bool) bool {
	cl := rollout.NewClients(w.c.Client, w.d.Namespace)
	for attempt := 0; attempt < 5; attempt++ {
		d, err := rollout.GetWorkload(ctx, cl, w.workload())
		if err != nil {
			w.c.rec.logf("%s: read guard state: %v", w.key(), err)
			return false
		}
		st, _ := ReadState(d.Object)
		next := w.snapshot()
		if st != nil {
			if st.Hash != next.Hash || st.Revision != next.Revision {
				w.c.rec.logf("%s: guard state now belongs to revision %d; revision %d's state is left alone", w.key(), st.Revision, next.Revision)
				return false
			}
			inc := next.Incident
			next = *st
			if next.Incident == "" {
				next.Incident = inc
			}
		}
		if !change(&next) {
			return false
		}
		next.By, next.Updated = w.c.Identity, w.c.Clock.Now().UTC()
		_, err = WriteState(ctx, cl, d, next)
		if errors.Is(err, ErrStateChanged) {
			continue
		}
		if err != nil {
			w.c.rec.logf("%s: %v", w.key(), err)
			return false
		}
		w.mu.Lock()
		w.state = next
		w.mu.Unlock()
		return true
	}
	w.c.rec.logf("%s: write guard state: it kept changing", w.key())
	return false
}

// guard runs pkg/guard for the current revision and persists its verdict.
func (w *work) guard(ctx context.Context, bakeStarted time.Time) {
	c := w.c
	cl, marker := w.clients()
	g := w.newGuard(ctx, cl)
	g.BakeStarted = bakeStarted
	run := c.RunGuard
	if run == nil {
		run = func(ctx context.Context, g *guard.Guard, name string) (*guard.Result, error) { return g.Run(ctx, name) }
	}
	var res *guard.Result
	var err error
	for attempt := 0; ; attempt++ {
		res, err = run(ctx, g, w.workload())
		if ctx.Err() != nil {
			c.rec.logf("%s: guard of revision %d interrupted; its state stays for the next leader", w.key(), w.cur.Revision)
			return
		}
		if res == nil || res.Verdict != guard.VerdictSuperseded || attempt >= 5 || !w.stillCurrent(ctx) {
			break
		}
		// The workload changed without a new rollout (our own state
		// annotation, a scale): guard the same revision on, resuming its bake.
		if st := w.snapshot(); st.BakeStarted != nil {
			g.BakeStarted = *st.BakeStarted
		}
		c.rec.logf("%s: revision %d is still the current one; the guard goes on (bake started %s)", w.key(), w.cur.Revision, g.BakeStarted.Format(time.RFC3339))
	}
	if res != nil && (res.Verdict == guard.VerdictSuperseded || res.Verdict == guard.VerdictCancelled) {
		c.rec.logf("%s: guard of revision %d ended %s: %s", w.key(), w.cur.Revision, res.Verdict, res.Reason)
		return
	}
	phase, reason := PhaseFailed, ""
	if res != nil {
		reason = res.Reason
		if res.RollbackError != "" {
			reason = "not rolled back: " + res.RollbackError + "; the release: " + res.Reason
		}
		switch res.Verdict {
		case guard.VerdictPassed:
			phase = PhasePassed
		case guard.VerdictRolledBack:
			phase = PhaseRolledBack
		}
	}
	if err != nil && reason == "" {
		reason = err.Error()
	}
	w.finish(ctx, phase, reason, marker.rolledBack())
}

// stillCurrent reports whether the workload still runs the task's revision.
func (w *work) stillCurrent(ctx context.Context) bool {
	_, rev, err := rollout.ReadCurrent(ctx, rollout.NewClients(w.c.Client, w.d.Namespace), w.workload())
	if err != nil {
		return false
	}
	cur := currentOf(rev)
	return cur != nil && cur.Hash == w.cur.Hash
}

// rollback rolls the bad release back (the first rollback: the state says
// the write never landed) and verifies it, continuing the incident.
func (w *work) rollback(ctx context.Context) {
	cl, marker := w.clients()
	g := w.newGuard(ctx, cl)
	in := w.resumeIncident(ctx)
	st := w.snapshot()
	if in != nil {
		// The previous leader's evidence went with it; the pods are still here.
		in.Collect(ctx, "guard", evidence.Workload{Clients: cl, Kind: w.d.Kind, Namespace: w.d.Namespace, Name: w.d.Name})
	}
	res, err := g.RollBack(ctx, in, w.workload(), map[string]any{"revision": st.Revision})
	if ctx.Err() != nil {
		if in != nil {
			in.Abandon()
		}
		return
	}
	phase, reason := PhaseRolledBack, st.Reason
	if err == nil && res.Verdict() != rollout.VerdictHealthy {
		err = fmt.Errorf("the rollback did not end healthy")
		if res != nil {
			err = fmt.Errorf("the rollback ended %s: %s", res.Verdict(), res.Reason())
		}
	}
	if err != nil {
		phase, reason = PhaseFailed, err.Error()
	}
	w.closeIncident(ctx, in, phase, reason)
	// The state is the bad revision's, also when the workload already
	// runs what a rollback through its Helm release put back.
	w.cur = Current{Hash: st.Hash, Revision: st.Revision}
	w.finish(ctx, phase, reason, marker.rolledBack())
}

// verify watches and verifies the revision a landed rollback put back.
func (w *work) verify(ctx context.Context) {
	c := w.c
	in := w.resumeIncident(ctx)
	g := w.newGuard(ctx, rollout.NewClients(c.Client, w.d.Namespace))
	_, err := g.VerifyRollback(ctx, in, w.workload())
	if ctx.Err() != nil {
		if in != nil {
			in.Abandon()
		}
		return
	}
	st := w.snapshot()
	phase, reason := PhaseRolledBack, st.Reason
	if reason == "" {
		reason = fmt.Sprintf("rolled back by %s, verified by %s", st.By, c.Identity)
	}
	if err != nil {
		phase, reason = PhaseFailed, "the rolled-back revision is not healthy: "+err.Error()
	}
	w.closeIncident(ctx, in, phase, reason)
	// The state is the bad revision's; the task observed the rolled-back one.
	w.cur = Current{Hash: st.Hash, Revision: st.Revision}
	w.finish(ctx, phase, reason, &st)
}

// closeIncident ends an incident this replica continued: the final
// notification, the closing entry, the report.
func (w *work) closeIncident(ctx context.Context, in *lifecycle.Incident, phase, reason string) {
	if in == nil {
		return
	}
	st := w.snapshot()
	summary := fmt.Sprintf("revision %d %s: %s", st.Revision, phase, reason)
	kind, result := notify.KindSucceeded, journal.ResultOK
	if phase != PhaseRolledBack {
		kind, result = notify.KindFailed, journal.ResultFailed
	}
	summary = redact.String(summary)
	if _, err := in.Close(ctx, lifecycle.Closing{Step: "guard", Action: journal.ActionIncidentClosed, Result: result,
		Inputs: map[string]any{"summary": summary}, Notify: &notify.Event{Kind: kind, Step: "guard", Summary: w.key() + " " + summary}}); err != nil {
		w.c.rec.logf("%s: close incident: %v", w.key(), err)
	}
}

// resumeIncident continues the incident named in the state (the
// ConfigMap mirror numbers the entries after the last one there); nil when
// it cannot be opened (logged: the rollback goes on without a record).
func (w *work) resumeIncident(ctx context.Context) *lifecycle.Incident {
	st := w.snapshot()
	id, resume := st.Incident, st.Incident != ""
	if !resume {
		id = journal.NewID(w.c.Clock.Now())
	}
	in, err := w.openIncident(ctx, id, false)
	if err != nil {
		w.c.rec.logf("%s: open incident journal: %v", w.key(), err)
		return nil
	}
	in.Log(ctx, journal.Entry{Step: "guard", Action: journal.ActionIncidentResumed, Target: w.workload(), Result: journal.ResultOK,
		Inputs: map[string]any{"phase": st.Phase, "revision": st.Revision, "previousLeader": st.By}})
	return in
}

// finish persists the verdict of the task's revision, unless the state
// already belongs to another revision, and records it as an Event.
func (w *work) finish(ctx context.Context, phase, reason string, landed *State) {
	reason = oneLine(redact.String(reason))
	w.mu.Lock()
	w.state.Hash, w.state.Revision = w.cur.Hash, w.cur.Revision
	w.mu.Unlock()
	putBack := ""
	if st := w.snapshot(); landed == nil && phase != PhasePassed && st.Release != "" && st.RollbackTo == "" {
		putBack = w.helmPutBack(ctx, st)
	}
	ok := w.update(ctx, func(s *State) bool {
		s.Phase, s.Reason = phase, reason
		if landed != nil {
			if s.Incident == "" {
				s.Incident = landed.Incident
			}
			if s.RollbackTo == "" {
				s.RollbackTo = landed.RollbackTo
			}
		}
		if s.RollbackTo == "" && putBack != "" {
			s.RollbackTo = putBack
		}
		return true
	})
	if !ok {
		return
	}
	switch phase {
	case PhasePassed:
		w.c.rec.event(ctx, w.d, "Normal", ReasonGuardPassed, "revision %d passed its bake of %s and is stamped known-good", w.cur.Revision, w.s.Bake)
	case PhaseRolledBack:
		w.c.rec.event(ctx, w.d, "Warning", ReasonRolledBack, "revision %d was rolled back and the result verified: %s", w.cur.Revision, reason)
	default:
		w.c.rec.event(ctx, w.d, "Warning", ReasonGuardFailed, "revision %d: %s", w.cur.Revision, reason)
	}
}

// helmPutBack returns the hash of the revision a rollback through the Helm
// release put back, which Helm's write cannot record: the workload's
// current revision when it is not the bad one and was created before the
// rolling-back state was written (Helm's rollback brings back the old
// ReplicaSet or ControllerRevision; a newer rollout is not it). "" when
// there is none, so that the controller never takes a new rollout for its
// own rollback.
func (w *work) helmPutBack(ctx context.Context, st State) string {
	_, rev, err := rollout.ReadCurrent(ctx, rollout.NewClients(w.c.Client, w.d.Namespace), w.workload())
	if err != nil {
		w.c.rec.logf("%s: read the revision the Helm rollback put back: %v", w.key(), err)
		return ""
	}
	cur := currentOf(rev)
	if cur == nil || cur.Hash == st.Hash || cur.Created.After(st.Updated) {
		return ""
	}
	return cur.Hash
}

// oneLine shortens s to one line of at most 300 bytes.
func oneLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
