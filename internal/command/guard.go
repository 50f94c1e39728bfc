package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// guardOptions are the flags of `rollback guard`.
type guardOptions struct {
	bake, interval           time.Duration
	verify                   verifyFlags
	promURL                  string
	queries                  promQueries
	failureLimit, errorLimit int
	onInconclusive           string
	noRollback               bool
	journalDir               string
	controller               bool
	rf                       runbookFlag
	evidence                 evidenceFlags
}

func newGuardCmd(f *Factory) *cobra.Command {
	o := &guardOptions{}
	var gc guardControllerFlags
	cmd := &cobra.Command{
		Use:   "guard WORKLOAD",
		Short: "Guard a fresh rollout in CI/CD: watch it, bake it under analysis, roll it back when it goes bad",
		Long: `Run right after kubectl apply / helm upgrade. guard takes a workload as
kubectl names it (deployment/web, statefulset/db, daemonset/agent, or a bare
NAME for a Deployment) and

 1. watches the rollout with the same code as "rollback app status", failing
    fast on crash loops, image pull errors and ProgressDeadlineExceeded;
 2. bakes the release for --bake: every --interval one analysis round checks
    the pods (all ready, no restart), every --check-url (2xx) and every
    Prometheus query (--prom-query with --max or --min, or the runbook's
    healthChecks.prometheus). A query with no data, NaN, several series or an
    unreachable Prometheus is inconclusive, never a pass;
 3. passes (exit 0) and stamps the revision known-good, or rolls back to the
    last known good revision with the same code as "rollback app undo --yes",
    under the cluster lock, journaled as an incident and notified through the
    runbook's channels (exit 3; 4 when the rollout timed out).

Analysis (like an Argo Rollouts AnalysisRun): a round fails if any check
fails, is inconclusive if none fails and any is inconclusive, else passes.
Failed rounds > --failure-limit (default 0) end the analysis as failed at once;
inconclusive rounds in a row > --consecutive-error-limit (default 4) end it as
inconclusive at once. When the bake time is up the analysis passes on a
passing round; a bake never ends on a failed or inconclusive round (rounds go
on until one passes or a limit is hit). An inconclusive analysis does what
--on-inconclusive says: rollback (default), pass, or fail (exit 3, the
release stays, not stamped).

Query templates: {{.namespace}}, {{.workload}} (its name; {{.deployment}} too),
{{.kind}}, {{.revision}} and {{.label_<key>}} for each label of the workload
(other characters than letters and digits in the key become _).`,
		Example: `  kubectl apply -f web.yaml
  rollback guard web -n shop --bake 5m --interval 30s \
    --check-url https://web.example.com/healthz \
    --prom-url http://prometheus:9090 \
    --prom-query '(sum(rate(http_requests_total{namespace="{{.namespace}}",code=~"5.."}[1m])) or vector(0))
      / sum(rate(http_requests_total{namespace="{{.namespace}}"}[1m]))' --max 0.05`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.controller {
				return gc.run(cmd, f, &o.rf)
			}
			if len(args) != 1 {
				return exitcode.AsRefused(errors.New("name the workload to guard: rollback guard WORKLOAD (deployment/web, sts/db, ds/agent; see --help)"))
			}
			return o.run(ctxOf(cmd), f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&o.bake, "bake", 5*time.Minute, "how long the release must stay healthy after its rollout completed")
	fl.DurationVar(&o.interval, "interval", 30*time.Second, "time between two analysis rounds")
	fl.StringVar(&o.promURL, "prom-url", "", "Prometheus server URL (default: the runbook's healthChecks.prometheus.url)")
	fl.Var(&promQueryFlag{q: &o.queries}, "prom-query", "PromQL query (placeholders {{.namespace}}, {{.workload}}, {{.deployment}}, {{.kind}}, {{.revision}}, {{.app}}, {{.label_KEY}}), followed by its --max or --min (repeatable pairs; default: the runbook's queries)")
	fl.Var(&promThresholdFlag{q: &o.queries, max: true}, "max", "highest healthy value of the preceding --prom-query")
	fl.Var(&promThresholdFlag{q: &o.queries}, "min", "lowest healthy value of the preceding --prom-query")
	fl.IntVar(&o.failureLimit, "failure-limit", guard.DefaultFailureLimit, "failed rounds tolerated; one more rolls back (Argo Rollouts' failureLimit, default 0)")
	fl.IntVar(&o.errorLimit, "consecutive-error-limit", guard.DefaultConsecutiveErrorLimit, "inconclusive rounds in a row tolerated; one more ends the analysis as inconclusive (Argo Rollouts' consecutiveErrorLimit)")
	fl.StringVar(&o.onInconclusive, "on-inconclusive", guard.DefaultOnInconclusive, "what an inconclusive analysis does: rollback, pass, or fail (exit 3 without rolling back)")
	fl.DurationVar(&o.verify.timeout, "timeout", 5*time.Minute, "give up watching the rollout (or the rollback) after this long (exit code 4)")
	fl.DurationVar(&o.verify.settle, "settle", 10*time.Second, "after a rollback: how long restart counts must stay stable")
	fl.StringArrayVar(&o.verify.checkURLs, "check-url", nil, "URL that must answer 2xx in every round, and after a rollback (repeatable; default: the runbook's healthChecks.http)")
	fl.BoolVar(&o.noRollback, "no-rollback", false, "report a bad release (exit 3) without rolling it back")
	fl.StringVar(&o.journalDir, "journal-dir", "", "directory of incident journals (default $ROLLBACK_JOURNAL_DIR or ~/.local/state/rollback/incidents)")
	fl.BoolVar(&o.controller, "controller", false, "run as an in-cluster controller guarding every opted-in Deployment, StatefulSet and DaemonSet (see the controller flags)")
	o.rf.add(cmd)
	o.evidence.add(cmd)
	gc.evidence = &o.evidence
	gc.add(cmd)
	return cmd
}

// run guards workload name (kubectl's resource syntax).
func (o *guardOptions) run(ctx context.Context, f *Factory, name string) error {
	w, err := workloadArg(name)
	if err != nil {
		return err
	}
	if err := o.queries.complete(); err != nil {
		return err
	}
	lim, err := o.evidence.limits()
	if err != nil {
		return err
	}
	rb, err := o.runbook()
	if err != nil {
		return err
	}
	hc := safehttp.NewClient(10 * time.Second)
	v := o.verify.value(f)
	v.HTTPClient = hc
	g := &guard.Guard{
		Verification: v, Observer: f.observer(),
		Bake: o.bake, Interval: o.interval, PrometheusURL: o.promURL, Checks: o.queries.checks,
		FailureLimit: o.failureLimit, ConsecutiveErrorLimit: o.errorLimit, OnInconclusive: o.onInconclusive,
		NoRollback: o.noRollback, App: w.Name, Actor: clusterlock.DefaultHolder(),
	}
	var chans []notify.Channel
	var secrets []string
	if rb != nil {
		g.App = rb.App
		if len(g.Verification.CheckURLs) == 0 {
			for _, c := range rb.HealthChecks.HTTP {
				g.Verification.CheckURLs = append(g.Verification.CheckURLs, c.URL)
			}
		}
		if p := rb.HealthChecks.Prometheus; p != nil {
			if g.PrometheusURL == "" {
				g.PrometheusURL = p.URL
			}
			if len(g.Checks) == 0 {
				for _, q := range p.Queries {
					g.Checks = append(g.Checks, promquery.Check{Name: q.Name, Query: q.Query, Max: q.Max, Min: q.Min})
				}
			}
		}
		if chans, secrets, err = notify.FromRunbook(rb.Notifications, os.Getenv, hc); err != nil {
			return err
		}
	}
	secrets = append(secrets, urlSecrets(append([]string{g.PrometheusURL}, g.Verification.CheckURLs...)...)...)
	f.Redact.Add(secrets...)
	if err := g.Validate(); err != nil {
		return err
	}
	cs, ns, err := appClients(f)
	if err != nil {
		return err
	}
	g.Clients, g.Namespace = rollout.NewClients(cs, ns), ns
	g.Leases = cs.CoordinationV1().Leases(ns)
	// A Deployment a Helm release manages is rolled back through its
	// release, in the rollback-helm program.
	g.Releases = f.releases()
	g.ReleaseLeases = func(ns string) coordinationv1client.LeaseInterface { return cs.CoordinationV1().Leases(ns) }
	if len(chans) > 0 {
		g.Notify = &notify.Dispatcher{Channels: chans, Clock: f.Clock, Redactor: f.Redact}
	}
	g.Incidents = func(ctx context.Context, id string) (*lifecycle.Incident, error) {
		return lifecycle.Open(ctx, lifecycle.Options{ID: id, App: g.App, Actor: g.Actor, Process: f.Process, JournalDir: o.journalDir,
			Mirror: cs.CoreV1().ConfigMaps(ns), Channels: chans, Secrets: secrets, Clock: f.Clock, Observer: f.observer(), AfterRecord: f.faultHook(),
			Evidence: lim})
	}
	res, err := g.Run(ctx, w.String())
	if res != nil {
		if f.JSON() {
			if perr := printJSON(f, res); perr != nil {
				return perr
			}
		} else {
			guard.WriteResult(f.IO.Out, res)
		}
	}
	return err
}

// runbook returns the runbook of -f, or the one in the working directory,
// or nil when there is none (the runbook is optional for guard).
func (o *guardOptions) runbook() (*runbook.Runbook, error) {
	rb, _, err := o.rf.load()
	if err != nil && o.rf.path == "" && errors.Is(err, runbook.ErrNotFound) {
		return nil, nil
	}
	return rb, err
}

// promQueries are the --prom-query flags with their thresholds, in order.
type promQueries struct {
	checks []promquery.Check
}

// complete refuses a query without a threshold.
func (q *promQueries) complete() error {
	for _, c := range q.checks {
		if c.Max == nil && c.Min == nil {
			return exitcode.AsRefused(fmt.Errorf("--prom-query %q needs a threshold: follow it with --max X or --min X", c.Query))
		}
	}
	return nil
}

// promQueryFlag appends a query; the next --max or --min belongs to it.
type promQueryFlag struct{ q *promQueries }

func (p *promQueryFlag) String() string { return "" }
func (p *promQueryFlag) Type() string   { return "query" }
func (p *promQueryFlag) Set(s string) error {
	if s == "" {
		return errors.New("empty query")
	}
	p.q.checks = append(p.q.checks, promquery.Check{Name: fmt.Sprintf("query%d", len(p.q.checks)+1), Query: s})
	return nil
}

// promThresholdFlag sets --max or --min of the preceding --prom-query.
type promThresholdFlag struct {
	q   *promQueries
	max bool
}

func (p *promThresholdFlag) String() string { return "" }
func (p *promThresholdFlag) Type() string   { return "float" }
func (p *promThresholdFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", s)
	}
	n := len(p.q.checks)
	if n == 0 {
		return errors.New("--max and --min follow the --prom-query they belong to")
	}
	c := &p.q.checks[n-1]
	if c.Max != nil || c.Min != nil {
		return fmt.Errorf("query %q already has a threshold: give each --prom-query exactly one --max or --min", c.Query)
	}
	if p.max {
		c.Max = &v
	} else {
		c.Min = &v
	}
	return nil
}
