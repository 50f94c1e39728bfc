package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/ownership"
	"github.com/vibestack/rollback/pkg/podrefs"
	"github.com/vibestack/rollback/pkg/rollout"
	"github.com/vibestack/rollback/pkg/runbook"
)

// RecentEvents is how far back Warning events are reported.
const RecentEvents = 15 * time.Minute

// workloadJob checks one workload (Deployment, StatefulSet, DaemonSet):
// its revisions and rollback target (which must be able to start), its
// pods and events, and its owners.
func (o *Options) workloadJob(c Cluster, wl runbook.Workload) job {
	return func(ctx context.Context) []Check {
		clients := rollout.NewClients(c.Client, c.Namespace)
		w, err := rollout.ParseWorkload(wl.String())
		if err != nil {
			return []Check{{Cluster: c.Context, Group: GroupRevisions, Name: wl.Name, Status: Fail, Detail: err.Error()}}
		}
		name := w.Arg()
		info, err := rollout.GetWorkload(ctx, clients, w.String())
		if err != nil {
			ch := Check{Cluster: c.Context, Group: GroupRevisions, Name: name, Status: Unknown,
				Detail: fmt.Sprintf("read %s in namespace %s: %v", w.Describe(), c.Namespace, err),
				Fix:    "check the cluster is reachable and the access checks above"}
			if outcome.KindOf(err) == outcome.Refused {
				ch.Status = Fail
				ch.Detail = fmt.Sprintf("%s not found in namespace %s", w.Describe(), c.Namespace)
				ch.Fix = fmt.Sprintf("fix the runbook's %s or clusters (kubectl get %s -n %s)", runbookKey(w.Kind), w.Kind.Resource(), c.Namespace)
			}
			return []Check{ch}
		}
		if d, ok := info.Object.(*appsv1.Deployment); ok {
			if through, ow := o.throughRelease(c, d); through != "" {
				return []Check{throughReleaseCheck(c.Context, name, through, ow), o.podsCheck(ctx, c, clients, info),
					{Cluster: c.Context, Group: GroupOwners, Name: name, Status: OK, Detail: ow.Title() + " (listed in helmReleases): rolled back through it; its owners are checked with the release"}}
			}
		}
		// Owners are their own check: plan as if forced (and as if the pods
		// of an OnDelete strategy may be replaced), with the same ownership
		// and start checks as `rollback app undo`.
		p, err := rollout.PlanFor(ctx, clients, w.String(), rollout.PlanOptions{Force: true, ReplacePods: true,
			Owners: ownership.Checker{Applications: clients.Applications},
			Start:  &podrefs.Checker{Namespace: c.Namespace, ConfigMaps: clients.ConfigMaps, Secrets: clients.Secrets, PVCs: clients.PVCs, ServiceAccounts: clients.ServiceAccounts, Snapshots: configs.SnapshotFinder{Client: c.Client}}})
		if p == nil {
			return []Check{{Cluster: c.Context, Group: GroupRevisions, Name: name, Status: Unknown,
				Detail: fmt.Sprintf("read the revisions of %s: %v", w.Describe(), err), Fix: "see the access checks above"},
				o.podsCheck(ctx, c, clients, info)}
		}
		checks := []Check{revisionCheck(c.Context, w, p, err), o.podsCheck(ctx, c, clients, info)}
		return append(checks, ownersCheck(c.Context, w.Arg(), p.Ownership))
	}
}

// runbookKey is the runbook's key of the workloads of kind k.
func runbookKey(k rollout.Kind) string {
	switch k {
	case rollout.KindStatefulSet:
		return "statefulSets"
	case rollout.KindDaemonSet:
		return "daemonSets"
	}
	return "deployments"
}

// revisionCheck reports the current revision, the rollback target chosen
// as `rollback app undo` would (the plan p and its error err) and their
// difference.
func revisionCheck(cluster string, w rollout.Workload, p *rollout.Plan, err error) Check {
	ch := Check{Cluster: cluster, Group: GroupRevisions, Name: w.Arg()}
	if err != nil && len(p.Missing) > 0 {
		ch.Status = Fail
		ch.Detail = err.Error()
		ch.Fix = "create what is missing (restore it from the snapshot named), or pick another revision with `rollback app undo --to-revision N`"
		return ch
	}
	if err != nil {
		ch.Status = Fail
		ch.Detail = "no rollback target: " + err.Error()
		ch.Fix = fmt.Sprintf("see `rollback app history %s -n %s`; pick a revision and pass --to-revision N, or roll forward", w.Arg(), p.Namespace)
		return ch
	}
	holder := "ReplicaSet"
	if w.Kind != rollout.KindDeployment {
		holder = "ControllerRevision"
	}
	cur := "current revision unknown (no " + holder + " matches the template yet)"
	if p.From != nil {
		cur = fmt.Sprintf("current %d (%s)", p.From.Number, strings.Join(p.From.Images, ", "))
	}
	target := fmt.Sprintf("target %d (%s): %s", p.To.Number, strings.Join(p.To.Images, ", "), p.Reason)
	if p.Skip {
		ch.Status = Warn
		ch.Detail = fmt.Sprintf("%s is already the target: %s", cur, p.Reason)
		ch.Fix = "the app step will be skipped: the problem is elsewhere (configuration, database) or the known-good stamp is wrong"
		return ch
	}
	ch.Status = OK
	var diff []string
	for _, c := range p.Diff.Changes {
		where := "pod"
		if c.Container != "" {
			where = c.Container
		}
		diff = append(diff, fmt.Sprintf("%s %s: %s -> %s", where, c.Field, c.From, c.To))
	}
	if len(diff) == 0 {
		diff = []string{"no difference in images, env, envFrom, volumes or resources"}
	}
	ch.Detail = fmt.Sprintf("%s -> %s; diff: %s", cur, target, strings.Join(diff, "; "))
	if p.Fallback {
		ch.Status = Warn
		ch.Fix = fmt.Sprintf("the target was never verified: stamp good revisions in CI with `rollback app mark-good %s`", w.Arg())
	}
	if len(p.ReplacePods) > 0 {
		ch.Status = Warn
		ch.Detail += fmt.Sprintf("; OnDelete: pods %s must be replaced after the undo", strings.Join(p.ReplacePods, ", "))
		ch.Fix = "the app step needs consent to replace them: `rollback run --replace-pods` (or `rollback app undo --replace-pods`)"
	}
	if p.ReplaceStuck != "" {
		ch.Detail += fmt.Sprintf("; pod %s fails at an older revision and blocks the OrderedReady rollout: the undo replaces it", p.ReplaceStuck)
	}
	owners := map[string]bool{}
	for _, w := range append(p.Ownership.ForcedWarnings(), p.Ownership.Notes()...) {
		owners[w] = true
	}
	for _, w := range p.Warnings {
		if !owners[w] {
			ch.Detail += "; " + w
		}
	}
	return ch
}

// podsCheck reports pods not ready, restarts and recent Warning events: an
// incident is why we are here, so they are a warning, never NO-GO.
func (o *Options) podsCheck(ctx context.Context, c Cluster, clients rollout.Clients, w *rollout.WorkloadInfo) Check {
	ch := Check{Cluster: c.Context, Group: GroupPods, Name: w.Arg()}
	pods, err := clients.Pods.List(ctx, metav1.ListOptions{LabelSelector: w.Selector})
	if err != nil {
		ch.Status, ch.Detail = Warn, fmt.Sprintf("list pods of %s: %v", w.Describe(), err)
		return ch
	}
	var notReady, restarts int
	var failure string
	names := map[string]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		names[p.Name] = true
		if !rollout.PodReady(p) {
			notReady++
		}
		restarts += int(rollout.PodRestarts(p))
		if f := rollout.PodFailureOf(p); f != nil && failure == "" {
			failure = f.String()
		}
	}
	var parts []string
	parts = append(parts, fmt.Sprintf("%d/%d ready", len(names)-notReady, len(names)), plural(restarts, "1 restart", fmt.Sprintf("%d restarts", restarts)))
	if failure != "" {
		parts = append(parts, failure)
	}
	events := o.warningEvents(ctx, clients, w.Name)
	if len(events) > 0 {
		parts = append(parts, fmt.Sprintf("%d warning events in the last %s (%s)", len(events), shortDuration(RecentEvents), strings.Join(events, "; ")))
	} else {
		parts = append(parts, "no warning events in the last "+shortDuration(RecentEvents))
	}
	ch.Detail = strings.Join(parts, ", ")
	ch.Status = OK
	if notReady > 0 || restarts > 0 || failure != "" || len(events) > 0 {
		ch.Status = Warn
	}
	return ch
}

// warningEvents returns "Reason: message" of the Warning events of the last
// RecentEvents about the workload, its revisions and pods (objects named
// after it), newest first, at most three distinct reasons.
func (o *Options) warningEvents(ctx context.Context, clients rollout.Clients, name string) []string {
	list, err := clients.Events.List(ctx, metav1.ListOptions{FieldSelector: "type=" + corev1.EventTypeWarning})
	if err != nil {
		return nil
	}
	since := o.Clock.Now().Add(-RecentEvents)
	type ev struct {
		when time.Time
		text string
	}
	var evs []ev
	for _, e := range list.Items {
		if e.InvolvedObject.Name != name && !strings.HasPrefix(e.InvolvedObject.Name, name+"-") {
			continue
		}
		when := e.LastTimestamp.Time
		if e.EventTime.After(when) {
			when = e.EventTime.Time
		}
		if when.IsZero() {
			when = e.CreationTimestamp.Time
		}
		if when.Before(since) {
			continue
		}
		evs = append(evs, ev{when, e.Reason + ": " + oneLine(e.Message)})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].when.After(evs[j].when) })
	var out []string
	seen := map[string]bool{}
	for _, e := range evs {
		reason, _, _ := strings.Cut(e.text, ":")
		if !seen[reason] && len(seen) < 3 {
			seen[reason] = true
			out = append(out, e.text)
		}
	}
	if len(evs) > len(out) && len(out) > 0 {
		out[len(out)-1] += fmt.Sprintf(" and %d more", len(evs)-len(out))
	}
	return out
}

// ownersCheck fails when an owner would revert the rollback (an operator,
// Argo CD with automated sync, Flux) or keeps its own history (a Helm
// release): the fix is the command that suspends it or hands over to it.
func ownersCheck(cluster, name string, v *ownership.Verdict) Check {
	ch := Check{Cluster: cluster, Group: GroupOwners, Name: name, Status: OK, Detail: v.Summary()}
	if notes := v.Notes(); len(notes) > 0 {
		ch.Status = Warn
		ch.Detail += "; " + strings.Join(notes, "; ")
	}
	if o := v.Blocking(); o != nil {
		ch.Status = Fail
		ch.Detail = fmt.Sprintf("%s: %s", o.Title(), o.Why)
		if o.Kind == ownership.KindHelm {
			ch.Fix = fmt.Sprintf("list the release in the runbook's helmReleases (- name: %s) so that the app step rolls it back through Helm, or roll it back through its release: %s", o.Name, o.Command())
		} else {
			ch.Fix = fmt.Sprintf("suspend it first: %s%s", o.Command(), alsoIn(o.Kind))
		}
	}
	return ch
}

// alsoIn says where else the fix of an owner can be made.
func alsoIn(k ownership.Kind) string {
	if k == ownership.KindOperator {
		return " (or roll back through the custom resource)"
	}
	return " (or roll back in Git)"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	return strings.TrimSuffix(s, "0m")
}
