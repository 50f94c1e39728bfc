package evidence

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// maxEvents bounds the Events listed in a namespace; maxPodStatuses the
// pods described per workload.
const (
	maxEvents      = 5000
	maxPodStatuses = 1000
)

// Workload is a workload about to be rolled back (today a Deployment).
type Workload struct {
	// Clients reach its namespace (Deployments, ReplicaSets, Pods, Events).
	Clients rollout.Clients
	// Kind is its kind (a Deployment when empty); Namespace and Name name it.
	Kind            rollout.Kind
	Namespace, Name string
	// Cluster names its cluster when a rollback spans several.
	Cluster string
	// ToRevision is the rollback's target; 0 means the last known good
	// revision (as the undo chooses it).
	ToRevision int64
}

// Describe names the workload.
func (w Workload) Describe() string {
	s := w.kind().Lower() + " " + w.Namespace + "/" + w.Name
	if w.Cluster != "" {
		s += " in cluster " + w.Cluster
	}
	return s
}

// dir is the workload's directory in the bundle.
func (w Workload) dir() string {
	d := "workloads/"
	if w.Cluster != "" {
		d += safeName(w.Cluster) + "/"
	}
	return d + safeName(w.Namespace) + "/" + w.kind().Lower() + "-" + safeName(w.Name)
}

func (w Workload) kind() rollout.Kind {
	if w.Kind == "" {
		return rollout.KindDeployment
	}
	return w.Kind
}

func (w Workload) reader() revisionReader {
	// What is kept may be a moment behind; it must not wait the watch
	// cache's progress interval that a consistent list waits right after
	// the incident's own writes (its lock, its journal mirror).
	c := w.Clients
	c.CachedReads = true
	return workloadRevisions{clients: c, toRevision: w.ToRevision}
}

// workloadPart is what was learned about one workload.
type workloadPart struct {
	w    Workload
	view *workloadView
	pods []PodStatus
	evs  []eventRow

	mu     sync.Mutex
	errors map[string][]logLine // pod/container -> first error lines
}

func (w Workload) start(ctx context.Context, col *collector) (part, []logTask) {
	p := &workloadPart{w: w, errors: map[string][]logLine{}}
	view, err := w.reader().read(ctx, rollout.Workload{Kind: w.kind(), Name: w.Name}.String())
	if err != nil {
		col.fail(w.Describe(), err)
		return p, nil
	}
	p.view = view
	dir := w.dir()
	col.addJSON(dir+"/workload.json", view.Status)
	col.addJSON(dir+"/revisions.json", view.Revisions)
	bad, healthy := p.classify(col)
	col.addJSON(dir+"/pods.json", p.pods)
	if d := p.diffText(); d != "" {
		col.addText(dir+"/diff.txt", d, false)
	}
	p.events(ctx, col)
	return p, p.logTasks(col, bad, healthy)
}

// classify describes every pod and picks those whose logs are read: the
// pods of the revision rolled back (failing first), and a sample of Ready
// pods of other revisions (the target's first).
func (p *workloadPart) classify(col *collector) (bad, healthy []*corev1.Pod) {
	v, lim := p.view, col.lim
	var others []*corev1.Pod
	for _, pod := range v.Pods {
		rev := v.revisionOf(pod)
		switch {
		case rev != nil && rev == v.Current:
			bad = append(bad, pod)
		case pod.DeletionTimestamp == nil && rollout.PodReady(pod):
			others = append(others, pod)
		}
	}
	rank := func(pod *corev1.Pod) int {
		switch {
		case rollout.PodFailureOf(pod) != nil:
			return 0
		case !rollout.PodReady(pod):
			return 1
		}
		return 2
	}
	sort.SliceStable(bad, func(i, j int) bool {
		ri, rj := rank(bad[i]), rank(bad[j])
		if ri != rj {
			return ri < rj
		}
		return bad[i].Name < bad[j].Name
	})
	sort.SliceStable(others, func(i, j int) bool {
		ti, tj := v.revisionOf(others[i]) == v.Target, v.revisionOf(others[j]) == v.Target
		if ti != tj {
			return ti
		}
		return others[i].Name < others[j].Name
	})
	if lim.Pods > 0 && len(bad) > lim.Pods {
		col.bundle.skip(fmt.Sprintf("logs of %d more pods of %s revision %d", len(bad)-lim.Pods, p.w.Describe(), v.Current.Number),
			fmt.Sprintf("limit: --evidence-pods %d", lim.Pods))
		bad = bad[:lim.Pods]
	}
	healthy = others[:min(lim.HealthyPods, len(others))]
	roles := map[*corev1.Pod]string{}
	for _, pod := range bad {
		roles[pod] = RoleBad
	}
	for _, pod := range healthy {
		roles[pod] = RoleHealthy
	}
	all := append([]*corev1.Pod(nil), v.Pods...)
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, pod := range all {
		if len(p.pods) == maxPodStatuses {
			col.bundle.skip(fmt.Sprintf("status of %d more pods of %s", len(all)-maxPodStatuses, p.w.Describe()), fmt.Sprintf("limit: %d pods per workload", maxPodStatuses))
			break
		}
		role := roles[pod]
		rev := v.revisionOf(pod)
		if role == "" {
			role = RoleOther
			if rev != nil && rev == v.Current {
				role = RoleBad
			}
		}
		p.pods = append(p.pods, podStatusOf(pod, rev, role))
	}
	return bad, healthy
}

// diffText is the pod template diff from the revision rolled back to the target.
func (p *workloadPart) diffText() string {
	v := p.view
	if v.Current == nil || v.Target == nil || v.Current.template == nil || v.Target.template == nil {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: pod template of revision %d (%s, %s) -> rollback target revision %d (%s, %s)\n",
		p.w.Describe(), v.Current.Number, v.Current.Object, strings.Join(v.Current.Images, ", "),
		v.Target.Number, v.Target.Object, strings.Join(v.Target.Images, ", "))
	rollout.DiffTemplates(v.Current.template, v.Target.template).Write(&b, "  ")
	return b.String()
}

// eventRow is one Event about the workload, its revisions or its pods.
type eventRow struct {
	First, Last time.Time
	Count       int32
	Type        string
	Reason      string
	Object      string
	Message     string
	Source      string
}

// events lists the namespace's Events about the workload and writes them,
// oldest first.
func (p *workloadPart) events(ctx context.Context, col *collector) {
	list, err := p.w.Clients.Events.List(ctx, metav1.ListOptions{Limit: maxEvents})
	if err != nil {
		col.fail("events of "+p.w.Describe(), err)
		return
	}
	if list.Continue != "" {
		col.bundle.skip("events of namespace "+p.w.Namespace+" after the first "+fmt.Sprint(maxEvents), fmt.Sprintf("limit: %d events", maxEvents))
	}
	for _, e := range list.Items {
		o := e.InvolvedObject
		if !p.view.owns(o.Kind, o.Name) {
			continue
		}
		first, last := e.FirstTimestamp.Time, e.LastTimestamp.Time
		if first.IsZero() {
			first = e.EventTime.Time
		}
		if last.IsZero() {
			last = first
		}
		src := e.Source.Component
		if src == "" {
			src = e.ReportingController
		}
		count := e.Count
		if count == 0 {
			count = 1
		}
		p.evs = append(p.evs, eventRow{First: first, Last: last, Count: count, Type: e.Type, Reason: e.Reason,
			Object: o.Kind + "/" + o.Name, Message: oneLine(e.Message), Source: src})
	}
	sort.SliceStable(p.evs, func(i, j int) bool { return p.evs[i].First.Before(p.evs[j].First) })
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRST SEEN (UTC)\tLAST SEEN (UTC)\tCOUNT\tTYPE\tREASON\tOBJECT\tSOURCE\tMESSAGE")
	for _, e := range p.evs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", fmtTime(e.First), fmtTime(e.Last), e.Count, e.Type, e.Reason, e.Object, orDash(e.Source), e.Message)
	}
	_ = tw.Flush()
	col.addText(p.w.dir()+"/events.txt", b.String(), true)
}

// logTasks are the container logs to read: every container of the chosen
// pods, the current run and, when there is one, the previous.
func (p *workloadPart) logTasks(col *collector, bad, healthy []*corev1.Pod) []logTask {
	var out []logTask
	add := func(pod *corev1.Pod, rank int) {
		statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			key := pod.Name + "/" + cs.Name
			base := p.w.dir() + "/logs/" + safeName(pod.Name) + "/" + safeName(cs.Name)
			done := func(text string) { p.noteErrors(key, text) }
			if hasRun(cs) {
				out = append(out, logTask{rank: rank, pods: p.w.Clients.Pods, pod: pod.Name, container: cs.Name, file: base + ".log", done: done})
			} else if cs.State.Waiting != nil {
				col.bundle.skip(fmt.Sprintf("logs of pod %s container %s", pod.Name, cs.Name), "never started: "+cs.State.Waiting.Reason)
			}
			switch {
			case hasPrevious(cs):
				out = append(out, logTask{rank: rank, pods: p.w.Clients.Pods, pod: pod.Name, container: cs.Name, previous: true, file: base + ".previous.log", done: done})
			case cs.State.Terminated != nil, cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil:
				// The run that just ended (or is backing off) becomes the
				// previous one when the kubelet restarts the container,
				// maybe before its log is read: ask for the previous run
				// too, without a word when there is none yet, and drop it
				// when it is the run already kept as the current one.
				out = append(out, logTask{rank: rank, pods: p.w.Clients.Pods, pod: pod.Name, container: cs.Name, previous: true, optional: true, file: base + ".previous.log", sameAs: base + ".log", done: done})
			}
		}
	}
	for _, pod := range bad {
		r := 2
		switch {
		case rollout.PodFailureOf(pod) != nil:
			r = 0
		case !rollout.PodReady(pod):
			r = 1
		}
		add(pod, r)
	}
	for _, pod := range healthy {
		add(pod, 3)
	}
	return out
}

// noteErrors keeps the first error lines of a container's log.
func (p *workloadPart) noteErrors(key, text string) {
	lines := firstErrors(text, maxErrorLines)
	if len(lines) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	merged := append(p.errors[key], lines...)
	sort.SliceStable(merged, func(i, j int) bool { return merged[i].Time.Before(merged[j].Time) })
	// The same run read twice (current and previous of a backing-off
	// container) gives the same lines.
	merged = slices.Compact(merged)
	p.errors[key] = merged[:min(len(merged), maxErrorLines)]
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}

// safeName makes a name safe as one path element of the bundle.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out == "." || out == ".." {
		return "_"
	}
	return out
}
