// Package preflight checks the pre-rollback checklist of the runbook (seed
// section 1) instead of having people read it: access, revisions, pods,
// owners (operators, Argo CD, Flux, Helm), monitoring, database and notifications, each as a check
// with a status, and a final GO / NO-GO.
package preflight

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/runbook"
	"github.com/vibestack/rollback/pkg/safehttp"
)

// Status is the verdict of one check.
type Status string

// The statuses of a check. Fail and Unknown are problems (NO-GO); Warn is
// information the person rolling back should read (an incident is why we
// are here), not a reason to stop.
const (
	// OK (✓): the check passed.
	OK Status = "ok"
	// Warn (!): worth knowing, not a reason to stop.
	Warn Status = "warn"
	// Fail (✗): the rollback would fail or be reverted; fix it first.
	Fail Status = "fail"
	// Unknown (?): the check could not be made; counted as NO-GO, never as ok.
	Unknown Status = "unknown"
)

// Problem reports whether s makes the preflight NO-GO.
func (s Status) Problem() bool { return s == Fail || s == Unknown }

// Symbol returns the one-character symbol of s: ✓ ! ✗ ?.
func (s Status) Symbol() string {
	switch s {
	case OK:
		return "✓"
	case Warn:
		return "!"
	case Fail:
		return "✗"
	}
	return "?"
}

// Groups of checks, in the order they are reported.
const (
	GroupAccess        = "access"
	GroupRevisions     = "revisions"
	GroupPods          = "pods"
	GroupOwners        = "owners"
	GroupMonitoring    = "monitoring"
	GroupDatabase      = "database"
	GroupNotifications = "notifications"
)

// Check is one line of the checklist.
type Check struct {
	// Cluster is the kubeconfig context the check is about ("" when none).
	Cluster string `json:"cluster,omitempty"`
	// Group is access, revisions, pods, owners, monitoring, database or notifications.
	Group string `json:"group"`
	// Name says what was checked: a resource, a Deployment, a query.
	Name string `json:"name"`
	// Status is ok, warn, fail or unknown.
	Status Status `json:"status"`
	// Detail is what was found, one line.
	Detail string `json:"detail"`
	// Fix says what to do about a fail or unknown (or a warn).
	Fix string `json:"fix,omitempty"`
}

// Report is the result of a preflight.
type Report struct {
	// App is the runbook's application.
	App string `json:"app"`
	// Checks are every check made, grouped in the order of the groups.
	Checks []Check `json:"checks"`
	// Go is true when no check failed or was unknown.
	Go bool `json:"go"`
	// Problems counts the checks that failed or were unknown.
	Problems int `json:"problems"`
	// Escalation lists whom to call, one "role: name (contact)" per entry.
	Escalation []string `json:"escalation,omitempty"`
	// Time is when the preflight started.
	Time time.Time `json:"time"`
}

// Cluster is one kubeconfig context of the runbook with its client.
type Cluster struct {
	// Context is the kubeconfig context name.
	Context string
	// Namespace is the app's namespace there.
	Namespace string
	// Client talks to the cluster; nil when Err is set.
	Client kubernetes.Interface
	// Err is why no client could be built (e.g. the context is missing from
	// the kubeconfig); it is reported as a failed access check.
	Err error
}

// Options are the inputs of a preflight.
type Options struct {
	// Runbook is the parsed rollback.yaml.
	Runbook *runbook.Runbook
	// Clusters has one entry per runbook cluster, built by the caller.
	Clusters []Cluster
	// Steps are the steps that will run (database checks only if "db" is in it);
	// the runbook's steps when empty.
	Steps []string
	// DatabaseURL is resolved by the caller from urlFromEnv or urlFromFile;
	// "" with the db step is a failed check that says where to put it.
	DatabaseURL string
	// DatabaseURLError is why the caller could not read the URL (e.g. the
	// file is missing); reported with the database checks.
	DatabaseURLError error
	// MigrationsDir and BackupDir override the runbook's database paths,
	// e.g. resolved against the runbook's directory; "" keeps the runbook's.
	MigrationsDir, BackupDir string
	// Channels are the notification channels; each is checked with Check(ctx).
	Channels []notify.Channel
	// Prometheus is the client of the runbook's Prometheus; nil when it has none.
	Prometheus *promquery.Client
	// HTTPClient runs the HTTP health checks; safehttp.NewClient(0) when nil.
	HTTPClient *http.Client
	// Clock gives the time (recent events, report time); the real clock when nil.
	Clock clock.Clock
	// Timeout bounds each check (default 5s); checks run concurrently.
	Timeout time.Duration
	// Getenv reads environment variables (notification settings); os.Getenv when nil.
	Getenv func(string) string
	// Releases plans the rollback of the runbook's Helm releases (in the
	// rollback-helm program); nil reports their checks as unknown.
	Releases helmtarget.Releases
}

// DefaultTimeout bounds each check when Options.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// job makes one or more checks; jobs run concurrently.
type job func(ctx context.Context) []Check

// Run makes every check concurrently and returns the report. It returns an
// error only when ctx ends or the options are unusable; every problem found
// in the cluster, the database or elsewhere is a Check.
func (o *Options) Run(ctx context.Context) (*Report, error) {
	if o.Runbook == nil {
		return nil, fmt.Errorf("preflight: no runbook")
	}
	o.defaults()
	rep := &Report{App: o.Runbook.App, Time: o.Clock.Now(), Escalation: Escalation(o.Runbook.Escalation)}
	jobs := o.jobs()
	quick := len(jobs)
	jobs = append(jobs, o.helmJobs()...)
	results := make([][]Check, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			timeout := o.Timeout
			if i >= quick {
				timeout = max(timeout, HelmTimeout)
			}
			jctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			results[i] = j(jctx)
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}
	for _, r := range results {
		rep.Checks = append(rep.Checks, r...)
	}
	order := []string{GroupAccess, GroupRevisions, GroupPods, GroupOwners, GroupMonitoring, GroupDatabase, GroupNotifications}
	slices.SortStableFunc(rep.Checks, func(a, b Check) int {
		return slices.Index(order, a.Group) - slices.Index(order, b.Group)
	})
	for i := range rep.Checks {
		rep.Checks[i].Detail = flatten(rep.Checks[i].Detail)
	}
	redactChecks(rep.Checks, o.redactor())
	rep.Go, rep.Problems = Verdict(rep.Checks)
	return rep, nil
}

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = safehttp.NewClient(0)
	}
	if o.Getenv == nil {
		o.Getenv = getenv
	}
	if len(o.Steps) == 0 {
		o.Steps = o.Runbook.Steps
	}
}

// jobs lists the checks to make.
func (o *Options) jobs() []job {
	var jobs []job
	for _, c := range o.Clusters {
		jobs = append(jobs, o.accessJob(c))
		if c.Client == nil {
			continue
		}
		for _, w := range o.Runbook.Workloads() {
			jobs = append(jobs, o.workloadJob(c, w))
		}
	}
	jobs = append(jobs, o.monitoringJobs()...)
	if o.Runbook.Database != nil && slices.Contains(o.Steps, runbook.StepDB) {
		jobs = append(jobs, o.databaseJob)
	}
	jobs = append(jobs, o.notificationJobs()...)
	return jobs
}

// Verdict returns whether checks are GO (no fail, no unknown) and how many
// problems they hold.
func Verdict(checks []Check) (bool, int) {
	n := 0
	for _, c := range checks {
		if c.Status.Problem() {
			n++
		}
	}
	return n == 0, n
}

// Err returns nil when r is GO, else the NO-GO error (a refusal, exit code
// 2) with the number of problems and whom to call:
// "preflight: NO-GO: 2 problems; fix them or call Ana (+1 555 0100)".
func (r *Report) Err() error {
	if r.Go {
		return nil
	}
	call := "the primary on-call (no escalation contacts in the runbook)"
	if len(r.Escalation) > 0 {
		_, call, _ = strings.Cut(r.Escalation[0], ": ")
	}
	what := "problems"
	if r.Problems == 1 {
		what = "problem"
	}
	return outcome.AsRefused(fmt.Errorf("preflight: NO-GO: %d %s; fix them or call %s", r.Problems, what, call))
}

// Escalation returns the runbook's contacts as "role: name (contact)", in order.
func Escalation(e runbook.Escalation) []string {
	var out []string
	for _, c := range []struct {
		role string
		c    *runbook.Contact
	}{{"primary", e.Primary}, {"secondary", e.Secondary}, {"engineering lead", e.EngineeringLead}} {
		if c.c != nil {
			out = append(out, fmt.Sprintf("%s: %s (%s)", c.role, c.c.Name, c.c.Contact))
		}
	}
	return out
}

// flatten makes a multi-line detail (some drivers' errors) one line,
// dropping repeated lines.
func flatten(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
