package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// HelmTimeout bounds the checks of one Helm release (when Timeout is
// shorter): they plan its rollback in the rollback-helm program, which
// starts, opens Helm's release storage and reads every revision.
const HelmTimeout = 30 * time.Second

// helmJobs checks every Helm release of the runbook, in every cluster,
// when the app step runs.
func (o *Options) helmJobs() []job {
	if len(o.Runbook.HelmReleases) == 0 || !slices.Contains(o.Steps, runbook.StepApp) {
		return nil
	}
	var jobs []job
	for _, c := range o.Clusters {
		if c.Client == nil {
			continue
		}
		for _, h := range o.Runbook.HelmReleases {
			jobs = append(jobs, o.helmReleaseJob(c, h))
		}
	}
	return jobs
}

// helmStorage is the access Helm's release storage needs (HELM_DRIVER:
// Secrets by default, ConfigMaps with configmap); nil for a storage the
// check cannot ask about (sql).
func (o *Options) helmStorage() *Need {
	why := "read and write the Helm release storage (history, rollback)"
	verbs := []string{"get", "list", "create", "update", "delete"}
	switch o.Getenv("HELM_DRIVER") {
	case "", "secret", "secrets":
		return &Need{Resource: "secrets", Verbs: verbs, Why: why}
	case "configmap", "configmaps":
		return &Need{Resource: "configmaps", Verbs: verbs, Why: why}
	}
	return nil
}

// helmReleaseJob checks one release: access to its storage, a good
// revision to go back to (no pending operation, a target that can start),
// its Deployments' owners and pods. The rollback is planned as `rollback
// run` plans it, as if forced, so that owners are their own check.
func (o *Options) helmReleaseJob(c Cluster, h runbook.HelmRelease) job {
	return func(ctx context.Context) []Check {
		ref := helmtarget.Ref{Context: c.Context, Namespace: h.NamespaceIn(c.Namespace), Name: h.Name}
		name := ref.Target()
		var checks []Check
		if n := o.helmStorage(); n != nil {
			checks = CheckAccess(ctx, c.Client, c.Context, ref.Namespace, []Need{*n})
			for i := range checks {
				checks[i].Name = name + " storage (" + checks[i].Name + ")"
			}
		}
		if o.Releases == nil {
			return append(checks, Check{Cluster: c.Context, Group: GroupRevisions, Name: name, Status: Unknown,
				Detail: "cannot read the release: no rollback-helm program", Fix: "install rollback-helm next to rollback (make install)"})
		}
		ur, err := o.Releases.Plan(ctx, ref, helmtarget.Options{Force: true}, nil)
		checks = append(checks, helmRevisionCheck(c.Context, ref, ur, err))
		if ur == nil || ur.Plan == nil {
			return checks
		}
		for i := range ur.Plan.Ownership {
			v := &ur.Plan.Ownership[i]
			checks = append(checks, ownersCheck(c.Context, name+" deployment/"+v.Name, v))
		}
		for _, d := range ur.Plan.Deployments {
			if slices.Contains(o.Runbook.Deployments, d) || ref.Namespace != c.Namespace {
				continue // checked as a deployment of the runbook, or in another namespace
			}
			clients := rollout.NewClients(c.Client, ref.Namespace)
			info, err := rollout.GetWorkload(ctx, clients, "deployment/"+d)
			if err != nil {
				continue
			}
			ch := o.podsCheck(ctx, c, clients, info)
			ch.Name = name + " deployment/" + d
			checks = append(checks, ch)
		}
		return checks
	}
}

// helmRevisionCheck reports the release's current revision and the
// revision its rollback goes to, as `rollback run` would choose it.
func helmRevisionCheck(cluster string, ref helmtarget.Ref, ur *helmtarget.UndoResult, err error) Check {
	ch := Check{Cluster: cluster, Group: GroupRevisions, Name: ref.Target()}
	history := fmt.Sprintf("rollback helm history %s -n %s", ref.Name, ref.Namespace)
	if err != nil {
		ch.Status, ch.Detail = Fail, err.Error()
		var p *helmtarget.Plan
		if ur != nil {
			p = ur.Plan
		}
		switch {
		case outcome.KindOf(err) != outcome.Refused:
			ch.Status = Unknown
			ch.Fix = "check that the release storage can be read (the access checks above) and that the release exists (helm list -n " + ref.Namespace + ")"
		case p == nil:
			ch.Fix = "fix the runbook's helmReleases (name, and namespace when it is not the cluster's): helm list -n " + ref.Namespace + " lists the releases"
		case p.Pending != nil:
			ch.Fix = fmt.Sprintf("make sure no helm operation on %s is running (%s); then `rollback helm undo %s -n %s --recover-pending` marks it failed and rolls back", ref.Name, p.Pending, ref.Name, ref.Namespace)
		case len(p.Missing) > 0:
			ch.Fix = "create what is missing (restore it from the snapshot named), or pick another revision with `rollback helm undo " + ref.Name + " --to-revision N`"
		default:
			ch.Fix = fmt.Sprintf("see `%s`; mark good revisions in CI with `rollback helm mark-good %s`, or roll back by hand with `rollback helm undo %s --to-revision N`", history, ref.Name, ref.Name)
		}
		return ch
	}
	p := ur.Plan
	state := p.From.Status
	if p.From.Health != p.From.Status {
		state += ", " + p.From.Health
	}
	cur := fmt.Sprintf("current %d (%s, %s)", p.From.Revision, p.From.Chart, state)
	if ur.Verdict == helmtarget.VerdictSkipped {
		ch.Status = Warn
		ch.Detail = fmt.Sprintf("%s is already the target: %s", cur, p.Reason)
		ch.Fix = "the app step only verifies it: the problem is elsewhere (configuration, database) or the mark is wrong (" + history + ")"
		return ch
	}
	ch.Status = OK
	var diff []string
	for _, v := range p.Values {
		diff = append(diff, fmt.Sprintf("%s: %s -> %s", v.Path, v.From, v.To))
	}
	for _, obj := range p.Objects {
		diff = append(diff, obj.Object+" "+obj.Change)
	}
	if len(diff) == 0 {
		diff = []string{"no difference in values or rendered objects"}
	}
	ch.Detail = fmt.Sprintf("%s -> target %d (%s, %s): %s; diff: %s", cur, p.To.Revision, p.To.Chart, p.To.Health, p.Reason, strings.Join(diff, "; "))
	return ch
}

// throughRelease returns the target of the runbook's Helm release that
// manages d ("" when none is listed) and that release.
func (o *Options) throughRelease(c Cluster, d *appsv1.Deployment) (string, *ownership.Owner) {
	ow := ownership.HelmReleaseOf("Deployment", d)
	if ow == nil {
		return "", nil
	}
	if h, ok := o.Runbook.HelmReleaseOf(ow.Name, ow.Namespace, c.Namespace); ok {
		return "helmrelease/" + h.Name, ow
	}
	return "", nil
}

// throughReleaseCheck reports that a Deployment of the runbook is rolled
// back through its listed Helm release.
func throughReleaseCheck(cluster, name, through string, o *ownership.Owner) Check {
	return Check{Cluster: cluster, Group: GroupRevisions, Name: name, Status: OK,
		Detail: fmt.Sprintf("belongs to %s: the app step rolls it back through %s (see its checks), not by patching it", o.Title(), through)}
}
