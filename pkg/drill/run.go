package drill

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/incident"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// Run runs the drill: see the package documentation. The error is non-nil
// when the drill failed (not detected, or not recovered).
func (d *Drill) Run(ctx context.Context) (*Result, error) {
	if d.Clock == nil {
		d.Clock = clock.RealClock{}
	}
	d.Verification = d.Verification.WithClock(d.Clock)
	if d.JournalDir == "" {
		d.JournalDir = journal.DefaultDir()
	}
	if d.Process == "" {
		d.Process = clusterlock.NewProcessID()
	}
	res := &Result{App: d.Runbook.App, Namespace: d.Namespace}
	if err := d.validate(); err != nil {
		return res, err
	}
	if err := d.createNamespace(ctx); err != nil {
		return res, err
	}
	if !d.Keep {
		defer func() { res.CleanedUp = d.cleanup() }()
	}
	prev, err := Previous(d.JournalDir, d.Runbook.App)
	if err != nil {
		d.progress("warning: reading earlier drills: %v", err)
	}
	res.Previous = prev
	res.Time = d.Clock.Now()
	in, err := lifecycle.Open(ctx, lifecycle.Options{App: d.Runbook.App, Actor: d.Actor, Process: d.Process, JournalDir: d.JournalDir,
		Mirror: d.Client.CoreV1().ConfigMaps(d.Namespace), Clock: d.Clock, Observer: d.Observer, AfterRecord: d.AfterRecord})
	if err != nil {
		return res, fmt.Errorf("drill: %w", err)
	}
	res.Incident = in.ID()
	completed := false
	complete := func(ctx context.Context, in *lifecycle.Incident, err error) {
		if completed {
			return
		}
		completed = true
		res.Verdict = VerdictPassed
		if err != nil {
			res.Verdict, res.Error = VerdictFailed, err.Error()
		}
		d.record(ctx, in, res)
	}
	err = d.rehearse(ctx, in, res, complete)
	if !completed {
		// The drill ended before its rollback ran: close the incident here.
		complete(ctx, in, err)
		closed, cerr := in.Close(ctx, lifecycle.Closing{Step: "drill", Action: journal.ActionIncidentClosed, Result: resultOf(err), Error: errText(err)})
		if cerr == nil && closed.Report != "" {
			res.Report = closed.Report
		}
	}
	if err != nil && res.Verdict != VerdictFailed {
		res.Verdict, res.Error = VerdictFailed, err.Error()
	}
	return res, err
}

// validate refuses a drill namespace that belongs to the application.
func (d *Drill) validate() error {
	if d.Namespace == "" {
		return outcome.AsRefused(errors.New("drill: no namespace: pass --namespace NS (a non-production namespace; it is created and deleted)"))
	}
	if len(d.Runbook.Workloads()) == 0 {
		return outcome.AsRefused(errors.New("drill: the runbook lists no deployments, statefulSets or daemonSets: a drill copies its workloads into the drill namespace (Helm releases are not drilled)"))
	}
	for _, c := range d.Runbook.Clusters {
		if c.Namespace == d.Namespace {
			return outcome.AsRefused(fmt.Errorf("drill: namespace %s is where %s runs (cluster %s): drills run in a separate, non-production namespace; pass another --namespace",
				d.Namespace, d.Runbook.App, c.Context))
		}
	}
	return nil
}

// createNamespace creates the drill namespace, or reuses one an earlier drill
// of this app left (--keep); any other existing namespace is refused.
func (d *Drill) createNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: d.Namespace, Labels: map[string]string{LabelDrill: d.Runbook.App}}}
	_, err := d.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cur, gerr := d.Client.CoreV1().Namespaces().Get(ctx, d.Namespace, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("drill: get namespace %s: %w", d.Namespace, gerr)
		}
		if cur.Labels[LabelDrill] != d.Runbook.App {
			return outcome.AsRefused(fmt.Errorf("drill: namespace %s exists and is not a drill namespace of %s (label %s): pass a new --namespace; the drill never touches existing namespaces",
				d.Namespace, d.Runbook.App, LabelDrill))
		}
		return outcome.AsRefused(fmt.Errorf("drill: namespace %s is left from an earlier drill: delete it (`kubectl delete namespace %s`) or pass another --namespace", d.Namespace, d.Namespace))
	}
	if err != nil {
		return fmt.Errorf("drill: create namespace %s: %w", d.Namespace, err)
	}
	d.progress("drill namespace %s created", d.Namespace)
	return nil
}

// cleanup deletes the drill namespace.
func (d *Drill) cleanup() bool {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := d.Client.CoreV1().Namespaces().Delete(ctx, d.Namespace, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		d.progress("warning: delete drill namespace %s: %v (delete it by hand)", d.Namespace, err)
		return false
	}
	d.progress("drill namespace %s deleted", d.Namespace)
	return true
}

// rehearse deploys the copy, breaks it, detects, recovers. complete
// records the drill's outcome in the incident before it is closed.
func (d *Drill) rehearse(ctx context.Context, in *lifecycle.Incident, res *Result, complete func(context.Context, *lifecycle.Incident, error)) error {
	if err := d.deployCopy(ctx); err != nil {
		return err
	}
	bad, start, err := d.breakCopy(ctx)
	res.BadRelease = bad
	if err != nil {
		return err
	}
	in.Log(ctx, journal.Entry{Step: "drill", Action: journal.ActionDrillStarted, Target: "namespace/" + d.Namespace,
		Inputs: map[string]any{"app": d.Runbook.App, "badRelease": bad, "runbook": d.RunbookPath, "drill": true}})
	detected, err := d.detect(ctx)
	res.Detect = rollout.Duration(d.Clock.Since(start))
	res.Detected = detected
	in.Log(ctx, journal.Entry{Step: "drill", Action: journal.ActionDrillDetected, Result: resultOf(err), Inputs: map[string]any{"detect": res.Detect.String(), "failure": detected}})
	if err != nil {
		return err
	}
	d.progress("detected after %s: %s", res.Detect, detected)
	recoverStart := d.Clock.Now()
	run := d.incidentRun(in)
	run.BeforeClose = func(ctx context.Context, in *lifecycle.Incident, rr *incident.Result) {
		res.Recover = rollout.Duration(d.Clock.Since(recoverStart))
		var err error
		if rr.Verdict != incident.VerdictRolledBack {
			err = fmt.Errorf("drill: the rollback did not recover the copy: %s", firstNonEmpty(rr.Error, rr.Verdict))
		}
		complete(ctx, in, err)
	}
	runRes, err := run.Run(ctx)
	res.Run = runRes
	if runRes != nil {
		res.Report = runRes.Report
	}
	if err != nil {
		if outcome.KindOf(err) == outcome.Failed {
			err = outcome.AsUnhealthy(err)
		}
		return fmt.Errorf("drill: the rollback did not recover the copy: %w", err)
	}
	d.progress("recovered after %s", res.Recover)
	return nil
}

// record journals the drill's outcome (drill.completed with its timings
// and the comparison with earlier drills); the report's Drill section is
// made from it when the incident closes.
func (d *Drill) record(ctx context.Context, in *lifecycle.Incident, res *Result) {
	e := journal.Entry{Step: "drill", Action: journal.ActionDrillCompleted, Result: journal.ResultOK, Error: res.Error,
		Inputs: map[string]any{"detect": res.Detect.String(), "recover": res.Recover.String(), "verdict": res.Verdict,
			"detectSeconds": timeSeconds(res.Detect), "recoverSeconds": timeSeconds(res.Recover), "previous": comparison(res)}}
	if res.Verdict != VerdictPassed {
		e.Result = journal.ResultFailed
	}
	in.Log(ctx, e)
}

// incidentRun is the runbook's rollback, aimed at the drill namespace: no
// database (a drill never touches the production database), no
// notifications (a drill pages nobody), no production health checks.
func (d *Drill) incidentRun(in *lifecycle.Incident) *incident.Run {
	rb := *d.Runbook
	rb.Clusters = nil
	for _, c := range d.Runbook.Clusters[:1] {
		c.Namespace = d.Namespace
		rb.Clusters = append(rb.Clusters, c)
	}
	rb.Database, rb.FeatureFlags, rb.HelmReleases = nil, nil, nil // a drill copies Deployments only
	rb.Notifications = d.Runbook.Notifications
	rb.Notifications.Slack, rb.Notifications.Webhook, rb.Notifications.PagerDuty = nil, nil, nil
	rb.HealthChecks = d.Runbook.HealthChecks
	rb.HealthChecks.HTTP, rb.HealthChecks.Prometheus = nil, nil
	steps := slices.DeleteFunc(slices.Clone(stepsOf(d.Runbook)), func(s string) bool { return s == "db" })
	return &incident.Run{
		Runbook: &rb, RunbookPath: d.RunbookPath, Incident: in, Steps: steps,
		Clusters: []incident.Cluster{{Context: d.Context, Namespace: d.Namespace, Client: d.Client}},
		Reason:   "rollback drill in namespace " + d.Namespace, Actor: d.Actor, JournalDir: d.JournalDir,
		Verification: d.Verification, Clock: d.Clock, Observer: d.Observer,
	}
}

// stepsOf returns the runbook's steps, or the default order.
func stepsOf(rb *runbook.Runbook) []string {
	if len(rb.Steps) > 0 {
		return rb.Steps
	}
	return runbook.DefaultSteps
}

// progress reports one human line.
func (d *Drill) progress(format string, args ...any) {
	progress.Emit(d.Observer, progress.Event{Time: d.Clock.Now(), Kind: progress.Info, Source: "drill", Target: "namespace/" + d.Namespace, Message: fmt.Sprintf(format, args...)})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func resultOf(err error) string {
	if err != nil {
		return journal.ResultFailed
	}
	return journal.ResultOK
}

func timeSeconds(d rollout.Duration) float64 { return float64(d) / 1e9 }
