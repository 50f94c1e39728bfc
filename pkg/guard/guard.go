// Package guard watches a fresh rollout, bakes it under health checks and
// Prometheus analysis, and rolls it back to the last known good revision when
// it goes bad. The CLI (`rollback guard`) and the controller share it.
package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// Verdicts of a guard run.
const (
	// VerdictPassed: the release survived the bake and was stamped known-good.
	VerdictPassed = "passed"
	// VerdictRolledBack: the release went bad and was rolled back.
	VerdictRolledBack = "rolled-back"
	// VerdictFailed: the release went bad and the rollback did not recover it
	// (or there was nothing to roll back to).
	VerdictFailed = "failed"
	// VerdictUnhealthy: the release went bad and was left in place
	// (--no-rollback, or --on-inconclusive fail).
	VerdictUnhealthy = "unhealthy"
	// VerdictSuperseded: a newer rollout of the Deployment started during the
	// bake; guard stopped without stamping or rolling back.
	VerdictSuperseded = "superseded"
	// VerdictCancelled: the context ended (interrupt, lost leadership).
	VerdictCancelled = "cancelled"
)

// Sender is the part of *notify.Dispatcher guard uses for the notification
// of a release that passed (no incident); every other notification goes
// through the incident (lifecycle.Incident.Notify).
type Sender interface {
	Send(ev notify.Event)
	Wait(ctx context.Context) []notify.Result
}

// Guard is one guarded rollout of one workload (Deployment, StatefulSet,
// DaemonSet).
type Guard struct {
	// Clients reach the workload's namespace.
	Clients rollout.Clients
	// Namespace is that namespace (for the lock and messages).
	Namespace string
	// Verification is how the rollout and a rollback are watched and
	// verified: its Timeout bounds the rollout watch and the rollback's,
	// its CheckURLs must answer 2xx in every round and after a rollback,
	// its Settle is the rollback's settle window.
	Verification rollout.Verification
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// Bake is how long the release must stay healthy after its rollout completed.
	Bake time.Duration
	// Interval is the time between two analysis rounds during the bake.
	Interval time.Duration
	// PrometheusURL is the Prometheus server queried by Checks.
	PrometheusURL string
	// Checks are the Prometheus queries and thresholds.
	Checks []promquery.Check
	// FailureLimit is how many failed rounds are tolerated before rolling
	// back (DefaultFailureLimit: none).
	FailureLimit int
	// ConsecutiveErrorLimit is how many inconclusive rounds in a row are
	// tolerated; one more ends the analysis as inconclusive. Zero tolerates
	// none: set DefaultConsecutiveErrorLimit (4) for Argo Rollouts' default.
	ConsecutiveErrorLimit int
	// OnInconclusive is rollback, pass or fail: what an inconclusive analysis
	// does; empty means DefaultOnInconclusive (rollback).
	OnInconclusive string
	// NoRollback reports a bad release and exits non-zero without rolling back.
	NoRollback bool
	// BakeStarted resumes a bake begun earlier (controller restart); zero starts a new one.
	BakeStarted time.Time
	// Incidents opens the incident of a bad release (new, with id), in which
	// guard locks the workload, journals, notifies, rolls back and writes
	// the report; nil means no incident (and no lock): tests only.
	Incidents func(ctx context.Context, id string) (*lifecycle.Incident, error)
	// Leases are the Leases of the workload's namespace: the rollback
	// holds the workload's lock there, the same lock `rollback run` and
	// the controller take. Nil takes no lock.
	Leases coordinationv1client.LeaseInterface
	// Notify sends the notification of a release that passed; nil sends none.
	Notify Sender
	// App names the application in notifications and the journal; the
	// workload's name when empty.
	App string
	// Actor is who guards (user@host or the controller's identity).
	Actor string
	// OnPhase, when set, is told when the bake starts (the controller
	// persists it to resume) and when guard starts rolling back.
	OnPhase func(phase string, at time.Time)
	// Releases reaches the Helm release that manages a guarded workload
	// (Helm's library, in the rollback-helm program): such a workload is
	// rolled back through its release, the bad revision marked failed and
	// a revision that passed its bake marked good, as `rollback helm`
	// marks them. Nil refuses its rollback as `rollback app undo` does.
	Releases helmtarget.Releases
	// ReleaseLeases returns the Leases of a release's namespace, for the
	// release's lock; nil uses Leases.
	ReleaseLeases func(namespace string) coordinationv1client.LeaseInterface
	// Context is the kubeconfig context Releases reach the cluster in;
	// empty is the one of the cluster flags (or the pod's own).
	Context string
}

// Phases reported to OnPhase.
const (
	PhaseBaking      = "baking"
	PhaseRollingBack = "rolling-back"
)

// Result is the outcome of a guard run.
type Result struct {
	// Kind and Name name the guarded workload.
	Kind rollout.Kind `json:"kind"`
	Name string       `json:"name"`
	// Deployment is the name again for a Deployment (the key scripts
	// written before StatefulSets and DaemonSets read).
	Deployment string `json:"deployment,omitempty"`
	// Namespace is its namespace.
	Namespace string `json:"namespace"`
	// Revision is the guarded revision.
	Revision int64 `json:"revision"`
	// Images are the guarded revision's images.
	Images []string `json:"images,omitempty"`
	// Verdict is passed, rolled-back, failed, unhealthy, superseded or cancelled.
	Verdict string `json:"verdict"`
	// Reason says why the release was judged bad.
	Reason string `json:"reason,omitempty"`
	// Analysis is the verdict of the bake's analysis: pass, fail or
	// inconclusive; empty when the rollout itself failed.
	Analysis promquery.Outcome `json:"analysis,omitempty"`
	// Rounds counts the analysis rounds by outcome.
	Rounds RoundCounts `json:"rounds"`
	// Incident is the id of the incident opened for the bad release.
	Incident string `json:"incident,omitempty"`
	// Report is the incident's Markdown report.
	Report string `json:"report,omitempty"`
	// Detection is the time from the guard's start to the bad verdict.
	Detection rollout.Duration `json:"detection,omitempty"`
	// Recovery is the time from the bad verdict to the rolled-back revision verified healthy.
	Recovery rollout.Duration `json:"recovery,omitempty"`
	// Rollout is how long the watched rollout took to complete.
	Rollout rollout.Duration `json:"rollout,omitempty"`
	// Bake is how long the bake lasted.
	Bake rollout.Duration `json:"bake,omitempty"`
	// Samples are the analysis results of every round.
	Samples [][]promquery.Sample `json:"samples,omitempty"`
	// Status is the result of the rollout watch.
	Status *rollout.StatusResult `json:"status,omitempty"`
	// Undo is the rollback's result when there was one.
	Undo *rollout.UndoResult `json:"undo,omitempty"`
	// Release is the Helm release that manages the workload, when one does.
	Release string `json:"release,omitempty"`
	// Helm is the result of the rollback through that release.
	Helm *helmtarget.UndoResult `json:"helm,omitempty"`
	// RollbackError says why the rollback failed or did not start (the
	// workload's lock held by someone else, a refusal, ...).
	RollbackError string `json:"rollbackError,omitempty"`
	// Notifications are the delivery results of the notifications sent.
	Notifications []notify.Result `json:"notifications,omitempty"`
	// Warnings are problems that did not change the verdict.
	Warnings []string `json:"warnings,omitempty"`
}

// RoundCounts counts analysis rounds by outcome.
type RoundCounts struct {
	Passed       int `json:"passed"`
	Failed       int `json:"failed"`
	Inconclusive int `json:"inconclusive"`
}

// Validate refuses (exit code 2) settings that cannot work, before any change.
func (g *Guard) Validate() error {
	switch {
	case g.Bake < 0:
		return outcome.AsRefused(fmt.Errorf("--bake must not be negative, got %s", g.Bake))
	case g.Interval <= 0:
		return outcome.AsRefused(fmt.Errorf("--interval must be positive, got %s", g.Interval))
	case g.FailureLimit < 0:
		return outcome.AsRefused(fmt.Errorf("--failure-limit must not be negative, got %d", g.FailureLimit))
	case g.ConsecutiveErrorLimit < 0:
		return outcome.AsRefused(fmt.Errorf("--consecutive-error-limit must not be negative, got %d", g.ConsecutiveErrorLimit))
	case g.OnInconclusive != "" && !ValidOnInconclusive(g.OnInconclusive):
		return outcome.AsRefused(fmt.Errorf("--on-inconclusive must be rollback, pass or fail, got %q", g.OnInconclusive))
	case len(g.Checks) > 0 && g.PrometheusURL == "":
		return outcome.AsRefused(errors.New("prometheus queries need --prom-url (or prometheus.url in the runbook)"))
	}
	for _, c := range g.Checks {
		if (c.Max == nil) == (c.Min == nil) {
			return outcome.AsRefused(fmt.Errorf("query %q needs exactly one threshold: --max X or --min X", c.Query))
		}
		if err := promquery.Validate(c.Query); err != nil {
			return outcome.AsRefused(fmt.Errorf("query %q: %w", c.Query, err))
		}
	}
	if g.PrometheusURL != "" {
		if _, err := promquery.New(g.PrometheusURL, nil); err != nil {
			return outcome.AsRefused(err)
		}
	}
	return nil
}

// Run guards workload (kubectl's resource syntax: web, deployment/web,
// sts/db, ds/agent) until it passes its bake or is rolled back. The error
// carries the exit code: 3 when the release was bad (rolled back or not),
// 4 when the rollout or the rollback timed out, 2 for bad settings
// (nothing changed), 1 for other errors.
func (g *Guard) Run(ctx context.Context, workload string) (*Result, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	w, err := rollout.ParseWorkload(workload)
	if err != nil {
		return nil, err
	}
	r := &run{g: g, w: w, name: w.Arg(), clk: g.clock()}
	r.start = r.clk.Now()
	r.id = journal.NewID(r.start)
	r.res = &Result{Kind: w.Kind, Name: w.Name}
	if w.Kind == rollout.KindDeployment {
		r.res.Deployment = w.Name
	}
	return r.run(ctx)
}

func (g *Guard) clock() clock.WithTicker {
	if g.Verification.Clock == nil {
		return clock.RealClock{}
	}
	return g.Verification.Clock
}

func (g *Guard) httpClient() *http.Client {
	if g.Verification.HTTPClient == nil {
		return safehttp.NewClient(rollout.DefaultCheckTimeout)
	}
	return g.Verification.HTTPClient
}

func (g *Guard) onInconclusive() string {
	if g.OnInconclusive == "" {
		return DefaultOnInconclusive
	}
	return g.OnInconclusive
}

// run is the state of one Guard.Run.
type run struct {
	g *Guard
	w rollout.Workload
	// name is the workload as progress lines name it (rollout.Workload.Arg).
	name  string
	clk   clock.WithTicker
	start time.Time
	id    string
	res   *Result
	ref   rollout.RevisionRef // the guarded revision
	// release is the Helm release of the workload, read once (helmRead).
	release  *ownership.Owner
	helmRead bool
}

// printf reports one human line.
func (r *run) printf(format string, args ...any) {
	r.emit(progress.Info, fmt.Sprintf(format, args...), nil)
}

// emit sends one event about the guarded workload.
func (r *run) emit(kind progress.Kind, msg string, data any) {
	progress.Emit(r.g.Observer, progress.Event{Time: r.clk.Now(), Kind: kind, Source: "guard", Target: r.target(), Message: msg, Data: data})
}

func (r *run) run(ctx context.Context) (*Result, error) {
	g, res := r.g, r.res
	// 1. Watch the rollout with the same code as `rollback app status`,
	// holding its known-good stamp until the bake passes.
	v := g.Verification.WithClock(r.clk)
	v.CheckURLs, v.Settle = nil, 0 // the bake's rounds check these instead
	st := rollout.Status{Clients: g.Clients, Verification: v, Observer: g.Observer, HoldKnownGood: true}
	sres, err := st.Run(ctx, r.w.String())
	if sres == nil {
		return nil, err
	}
	res.Status, res.Namespace, res.Revision, res.Images = sres, sres.Namespace, sres.Revision, sres.Images
	res.Rollout = sres.Durations.Rollout
	r.ref = sres.RevisionRef
	switch sres.Verdict {
	case rollout.VerdictHealthy:
	case rollout.VerdictUnhealthy:
		return r.bad(ctx, "rollout failed: "+sres.Reason, false)
	case rollout.VerdictTimeout:
		return r.bad(ctx, "rollout did not complete: "+sres.Reason, true)
	case rollout.VerdictCancelled:
		res.Verdict, res.Reason = VerdictCancelled, "interrupted while watching the rollout"
		return res, fmt.Errorf("guard %s: %w", r.w.Describe(), context.Cause(ctx))
	default:
		res.Verdict, res.Reason = VerdictFailed, sres.Reason
		return res, err
	}
	// 2. Bake.
	outcome, err := r.bake(ctx)
	if err != nil {
		return res, err
	}
	switch {
	case outcome == promquery.Pass:
		return r.good(ctx, "")
	case outcome == promquery.Inconclusive && g.onInconclusive() == OnInconclusivePass:
		return r.good(ctx, "analysis inconclusive and --on-inconclusive pass: accepted without proof of health")
	case outcome == promquery.Inconclusive && g.onInconclusive() == OnInconclusiveFail:
		return r.leave(ctx, res.Reason+"; --on-inconclusive fail: the release stays, not stamped known-good")
	}
	return r.bad(ctx, res.Reason, false)
}

// bake runs analysis rounds every Interval until the Analysis ends and
// returns its verdict; res.Reason explains a fail or inconclusive verdict.
func (r *run) bake(ctx context.Context) (promquery.Outcome, error) {
	g, res := r.g, r.res
	info, err := rollout.GetWorkload(ctx, g.Clients, r.w.String())
	if err != nil {
		return "", fmt.Errorf("get %s: %w", r.w.Describe(), err)
	}
	if r.ref.Hash == "" {
		return "", fmt.Errorf("%s revision %d: cannot find the object holding its revision", r.w.Describe(), res.Revision)
	}
	base, err := g.podsBaseline(ctx, info, r.ref)
	if err != nil {
		return "", err
	}
	vars := Vars(info, res.Revision)
	var prom *promquery.Client
	if g.PrometheusURL != "" && len(g.Checks) > 0 {
		if prom, err = promquery.New(g.PrometheusURL, g.httpClient()); err != nil {
			return "", outcome.AsRefused(err)
		}
	}
	bakeStart := r.clk.Now()
	if !g.BakeStarted.IsZero() {
		bakeStart = g.BakeStarted
	}
	if g.OnPhase != nil {
		g.OnPhase(PhaseBaking, bakeStart)
	}
	deadline := bakeStart.Add(g.Bake)
	r.printf("%s: revision %d rolled out; baking for %s: a round every %s of %d check(s) (failure limit %d, consecutive error limit %d, on inconclusive: %s)",
		r.name, res.Revision, g.Bake, g.Interval, 1+len(g.Verification.CheckURLs)+len(g.Checks), g.FailureLimit, g.ConsecutiveErrorLimit, g.onInconclusive())
	an := Analysis{FailureLimit: g.FailureLimit, ConsecutiveErrorLimit: g.ConsecutiveErrorLimit}
	defer func() {
		res.Rounds = RoundCounts{Passed: an.Passed, Failed: an.Failed, Inconclusive: an.Inconclusive}
		res.Bake = rollout.Duration(r.clk.Since(bakeStart))
	}()
	for round := 1; ; round++ {
		samples, err := r.round(ctx, prom, vars, base)
		if errors.Is(err, errSuperseded) {
			res.Verdict, res.Reason = VerdictSuperseded, err.Error()
			r.printf("%s: %s; guard stops without stamping or rolling back", r.name, err)
			return "", fmt.Errorf("guard %s: %w", r.w.Describe(), err)
		}
		if ctx.Err() != nil {
			res.Verdict, res.Reason = VerdictCancelled, "interrupted during the bake"
			return "", fmt.Errorf("guard %s: %w", r.w.Describe(), context.Cause(ctx))
		}
		res.Samples = append(res.Samples, samples)
		out := RoundOutcome(samples)
		now := r.clk.Now()
		verdict := an.Add(out, !now.Before(deadline))
		r.printf("%s: round %d (%s of %s): %s: %s", r.name, round, rollout.Duration(now.Sub(bakeStart)), g.Bake, out, describe(samples))
		if verdict != "" {
			res.Analysis = verdict
			switch verdict {
			case promquery.Fail:
				res.Reason = fmt.Sprintf("analysis failed: %s (%s)", firstBad(samples, promquery.Fail), an.String())
			case promquery.Inconclusive:
				res.Reason = fmt.Sprintf("analysis inconclusive: %s (%s)", firstBad(samples, promquery.Inconclusive), an.String())
			}
			return verdict, nil
		}
		select {
		case <-ctx.Done():
			res.Verdict, res.Reason = VerdictCancelled, "interrupted during the bake"
			return "", fmt.Errorf("guard %s: %w", r.w.Describe(), context.Cause(ctx))
		case <-r.clk.After(g.Interval):
		}
	}
}

// round evaluates every check once.
func (r *run) round(ctx context.Context, prom *promquery.Client, vars map[string]string, base baseline) ([]promquery.Sample, error) {
	pods, err := r.g.checkPods(ctx, r.w, base)
	if err != nil {
		return nil, err
	}
	samples := []promquery.Sample{pods}
	for _, u := range r.g.Verification.CheckURLs {
		samples = append(samples, r.g.checkURL(ctx, u))
	}
	for _, c := range r.g.Checks {
		samples = append(samples, prom.Evaluate(ctx, c, vars))
	}
	return samples, nil
}
