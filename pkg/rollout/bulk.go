package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// DefaultConcurrency bounds the concurrent writes of a bulk undo.
const DefaultConcurrency = 10

// BulkUndo undoes every workload (Deployment, StatefulSet, DaemonSet)
// matching a label selector, concurrently. It reads with one list per
// kind, then starts one watch per resource (the workloads of each kind
// found there, ReplicaSets or ControllerRevisions, pods) and namespace,
// plans from those watches' caches and judges the rollouts from the same
// caches, so that an undo costs about two API requests per workload and
// every object is decoded once.
type BulkUndo struct {
	Clientset kubernetes.Interface
	// Namespace limits the undo to one namespace; "" means all namespaces.
	Namespace string
	Selector  string
	// Kinds limits the undo to these kinds; nil means every kind.
	Kinds []Kind
	// Options carries the per-workload settings (ToRevision, DryRun,
	// Force, ReplacePods, NoReplaceStuck, Verification, Observer); its
	// Clients, Confirm and BeforeWrite are not used.
	Options Undo
	// ConfirmAll is asked once before any write with every plan to apply;
	// nil means yes.
	ConfirmAll func([]*Plan) (bool, error)
	// Concurrency bounds concurrent writes; 0 means DefaultConcurrency.
	Concurrency int
}

// BulkResult is the outcome of a bulk undo, one result per workload.
type BulkResult struct {
	Selector  string          `json:"selector"`
	Namespace string          `json:"namespace,omitempty"`
	Results   []*UndoResult   `json:"results"`
	Counts    map[Verdict]int `json:"counts"`
	Total     Duration        `json:"total"`
}

// Err returns the most severe error of the results (timeout over unhealthy
// over refused over error), or nil when every undo succeeded or was skipped.
func (r *BulkResult) Err() error {
	worst, n := outcome.OK, 0
	for _, res := range r.Results {
		if k := res.Verdict.Kind(); k != outcome.OK {
			n++
			worst = outcome.Worst(worst, k)
		}
	}
	if worst == outcome.OK {
		return nil
	}
	return outcome.As(worst, fmt.Errorf("%d of %d %s were not rolled back healthy (see the table)", n, len(r.Results), r.noun()))
}

// noun names the results' kind in a sentence: "deployments" when every
// result is a Deployment (as before StatefulSets and DaemonSets), else
// "workloads".
func (r *BulkResult) noun() string {
	for _, res := range r.Results {
		if res.Kind != KindDeployment && res.Kind != "" {
			return "workloads"
		}
	}
	return "deployments"
}

// bulkItem is one workload of a bulk undo.
type bulkItem struct {
	plan *Plan
	res  *UndoResult
	// generation is the workload's generation after the undo's write;
	// the watch cache must reach it before the rollout is judged.
	generation int64
}

// key is the item's key among its namespace's.
func (it *bulkItem) key() Workload { return key(it.res.Kind, it.res.Name) }

// label names the item in progress lines: NAMESPACE/NAME for a
// Deployment, NAMESPACE/KIND/NAME otherwise.
func (it *bulkItem) label() string {
	return it.res.Namespace + "/" + Workload{Kind: it.res.Kind, Name: it.res.Name}.Arg()
}

// kinds returns the kinds a bulk undo covers.
func (b *BulkUndo) kinds() []Kind {
	if len(b.Kinds) == 0 {
		return Kinds
	}
	return b.Kinds
}

// list lists the workloads of every kind matching the selector.
func (b *BulkUndo) list(ctx context.Context) ([]object, error) {
	var out []object
	opts := metav1.ListOptions{LabelSelector: b.Selector}
	apps := b.Clientset.AppsV1()
	for _, k := range b.kinds() {
		switch k {
		case KindDeployment:
			l, err := apps.Deployments(b.Namespace).List(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("list deployments matching %q: %w", b.Selector, err)
			}
			for i := range l.Items {
				out = append(out, object{d: &l.Items[i]})
			}
		case KindStatefulSet:
			l, err := apps.StatefulSets(b.Namespace).List(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("list statefulsets matching %q: %w", b.Selector, err)
			}
			for i := range l.Items {
				out = append(out, object{sts: &l.Items[i]})
			}
		case KindDaemonSet:
			l, err := apps.DaemonSets(b.Namespace).List(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("list daemonsets matching %q: %w", b.Selector, err)
			}
			for i := range l.Items {
				out = append(out, object{ds: &l.Items[i]})
			}
		}
	}
	// Nothing reads the managed fields; a thousand workloads hold megabytes
	// of them for the whole run.
	for _, o := range out {
		o.meta().ManagedFields = nil
	}
	return out, nil
}

// kindWords names kinds in a sentence: "deployment", "deployment, statefulset or daemonset".
func kindWords(kinds []Kind) string {
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = k.Lower()
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// Run plans every matching Deployment, asks once, writes concurrently and
// watches each namespace's rollouts with one set of watches.
func (b *BulkUndo) Run(ctx context.Context) (*BulkResult, error) {
	clk := b.Options.clock()
	start := clk.Now()
	out := bulkEmitter{obs: b.Options.Observer, clk: clk}
	res := &BulkResult{Selector: b.Selector, Namespace: b.Namespace, Counts: map[Verdict]int{}}
	list, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		where := "namespace " + b.Namespace
		if b.Namespace == "" {
			where = "any namespace"
		}
		return nil, outcome.AsRefused(fmt.Errorf("no %s in %s matches %q", kindWords(b.kinds()), where, b.Selector))
	}
	byNS := map[string][]object{}
	for _, o := range list {
		ns := o.meta().Namespace
		byNS[ns] = append(byNS[ns], o)
	}
	namespaces := make([]string, 0, len(byNS))
	for ns := range byNS {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)

	// Plan: start each namespace's watches and plan from their caches; the
	// same watches then follow the rollouts.
	ctx, stopWatches := context.WithCancel(ctx)
	defer stopWatches()
	items := map[string][]*bulkItem{}
	monitors := map[string]*nsMonitor{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ns := range namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nm := b.startMonitor(ctx, ns, byNS[ns])
			planned := b.planNamespace(ctx, ns, byNS[ns], nm)
			mu.Lock()
			items[ns], monitors[ns] = planned, nm
			mu.Unlock()
		}()
	}
	wg.Wait()
	var toWrite []*Plan
	for _, ns := range namespaces {
		for _, it := range items[ns] {
			res.Results = append(res.Results, it.res)
			switch {
			case it.plan == nil:
				out.emit(progress.Info, it, fmt.Sprintf("%s: %s: %s", it.label(), it.res.Verdict, it.res.Error))
			case it.plan.Skip:
				it.res.Verdict = VerdictSkipped
				out.emit(progress.Info, it, fmt.Sprintf("%s: skipped: already at %s", it.label(), it.plan.Reason))
			default:
				out.emit(progress.Plan, it, fmt.Sprintf("%s: revision %d (%s) -> revision %d (%s): %s", it.label(), it.res.FromRevision,
					imagesString(it.res.ImagesBefore), it.res.ToRevision, imagesString(it.res.ImagesAfter), it.plan.Reason))
				for _, w := range it.plan.Warnings {
					out.emit(progress.Warning, it, "  warning: "+w)
				}
				toWrite = append(toWrite, it.plan)
			}
		}
	}
	finish := func(err error) (*BulkResult, error) {
		for _, r := range res.Results {
			res.Counts[r.Verdict]++
		}
		res.Total = Duration(clk.Now().Sub(start))
		if err != nil {
			return res, err
		}
		return res, res.Err()
	}
	pendingWrite := func(it *bulkItem) bool {
		return it.plan != nil && !it.plan.Skip && it.res.Verdict == VerdictError && it.res.Error == ""
	}
	if b.Options.DryRun || len(toWrite) == 0 {
		for _, ns := range namespaces {
			for _, it := range items[ns] {
				if pendingWrite(it) {
					it.res.Verdict, it.res.Diff = VerdictDryRun, &it.plan.Diff
				}
			}
		}
		return finish(nil)
	}
	if b.ConfirmAll != nil {
		ok, err := b.ConfirmAll(toWrite)
		if err == nil && !ok {
			err = errors.New("cancelled at the prompt; nothing changed")
		}
		if err != nil {
			for _, ns := range namespaces {
				for _, it := range items[ns] {
					if pendingWrite(it) {
						it.res.Verdict, it.res.Error = VerdictCancelled, err.Error()
					}
				}
			}
			return finish(outcome.AsRefused(err))
		}
	}

	// Write and watch: per namespace, bounded writes, then one monitor.
	concurrency := b.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	sem := make(chan struct{}, concurrency)
	for _, ns := range namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.undoNamespace(ctx, ns, items[ns], monitors[ns], sem, out, pendingWrite)
		}()
	}
	wg.Wait()
	return finish(nil)
}

// bulkEmitter sends a bulk undo's events.
type bulkEmitter struct {
	obs progress.Observer
	clk clock.Clock
}

func (e bulkEmitter) emit(kind progress.Kind, it *bulkItem, msg string) {
	target := Workload{Kind: it.res.Kind, Name: it.res.Namespace + "/" + it.res.Name}.String()
	progress.Emit(e.obs, progress.Event{Time: e.clk.Now(), Kind: kind, Source: source, Target: target, Message: msg})
}

// nsMonitor is the monitor of one namespace and its running watches.
type nsMonitor struct {
	clients Clients
	m       *monitor
	w       *watches
}

// startMonitor starts the watches of namespace ns: the workloads matching
// the selector of the kinds os has there, and all ReplicaSets or
// ControllerRevisions and pods (a selector's workloads may select their
// pods with any labels).
func (b *BulkUndo) startMonitor(ctx context.Context, ns string, os []object) *nsMonitor {
	st := b.Options.status()
	st.Clients = NewClients(b.Clientset, ns)
	u := b.Options
	u.Clients = st.Clients
	m := u.monitor()
	m.quiet = true
	var kinds []Kind
	for _, k := range Kinds {
		for _, o := range os {
			if o.kind() == k {
				kinds = append(kinds, k)
				break
			}
		}
	}
	return &nsMonitor{clients: st.Clients, m: m, w: m.watch(ctx, watchScope{kinds: kinds, labels: b.Selector})}
}

// planNamespace plans the undo of os, all in namespace ns, from the
// revisions and pods in the namespace's watch caches.
func (b *BulkUndo) planNamespace(ctx context.Context, ns string, os []object, nm *nsMonitor) []*bulkItem {
	var out []*bulkItem
	syncErr := nm.w.waitSynced(ctx, b.Options.Verification.Timeout)
	// One start check per namespace: each object is read once.
	start := nm.clients.startChecker(ns, b.Options.Snapshots)
	for _, o := range os {
		w := o.workload()
		it := &bulkItem{res: &UndoResult{Kind: w.Kind, Name: w.Name, Deployment: deploymentName(w), Namespace: ns, Verdict: VerdictError, ImagesBefore: templateImages(o.template())}}
		out = append(out, it)
		if syncErr != nil {
			it.res.Error = fmt.Sprintf("list %s and their revisions in namespace %s: %v", w.Kind.Resource(), ns, syncErr)
			if outcome.KindOf(syncErr) == outcome.Refused || apierrors.IsForbidden(syncErr) || apierrors.IsUnauthorized(syncErr) {
				it.res.Verdict = VerdictRefused
			}
			continue
		}
		srcs, pods := nm.cached(o)
		plan, err := planUndo(ctx, o, srcs, pods, b.Options.planOptions(nm.clients, ns, start))
		fill(it.res, plan)
		if err != nil {
			it.res.Error = err.Error()
			it.res.Verdict = VerdictRefused
			continue
		}
		it.plan = plan
	}
	return out
}

// cached returns the revision objects and pods of o in the watch caches
// (copies: a plan keeps what it read).
func (nm *nsMonitor) cached(o object) ([]*revisionSource, []*corev1.Pod) {
	uid := o.meta().UID
	var srcs []*revisionSource
	if o.d != nil {
		for _, rs := range owned[*appsv1.ReplicaSet](nm.w.replicaSets.store, uid) {
			srcs = append(srcs, replicaSetSource(rs.DeepCopy()))
		}
		return srcs, nil
	}
	for _, cr := range owned[*appsv1.ControllerRevision](nm.w.revisions.store, uid) {
		srcs = append(srcs, controllerRevisionSource(cr.DeepCopy()))
	}
	pods := owned[*corev1.Pod](nm.w.pods.store, uid)
	for i, p := range pods {
		pods[i] = p.DeepCopy()
	}
	return srcs, pods
}

// undoNamespace writes the plans of one namespace and watches them.
func (b *BulkUndo) undoNamespace(ctx context.Context, ns string, items []*bulkItem, nm *nsMonitor, sem chan struct{}, out bulkEmitter, pendingWrite func(*bulkItem) bool) {
	defer nm.w.stop()
	clients := nm.clients
	clk := b.Options.clock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var written []Workload
	minGeneration := map[Workload]int64{}
	byName := map[Workload]*bulkItem{}
	for _, it := range items {
		if !pendingWrite(it) {
			continue
		}
		byName[it.key()] = it
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := clk.Now()
			err := b.write(ctx, clients, it, out)
			it.res.Durations.Write = Duration(clk.Now().Sub(start))
			if err != nil {
				it.res.Error = err.Error()
				if it.res.Verdict == VerdictError && outcome.KindOf(err) == outcome.Refused {
					it.res.Verdict = VerdictRefused
				}
				return
			}
			if it.plan.Skip {
				return
			}
			mu.Lock()
			written = append(written, it.key())
			minGeneration[it.key()] = it.generation
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(written) == 0 {
		return
	}
	sort.Slice(written, func(i, j int) bool { return written[i].String() < written[j].String() })
	results := nm.m.follow(ctx, nm.w, written, minGeneration)
	for name, sres := range results {
		it := byName[name]
		sres.Namespace = ns
		it.res.Status = sres
		it.res.NewRevision = sres.Revision
		it.res.Verdict = sres.Verdict
		it.res.ReplacedPods = sres.Replaced
		it.res.Durations.Rollout, it.res.Durations.Settle, it.res.Durations.Checks = sres.Durations.Rollout, sres.Durations.Settle, sres.Durations.Checks
		it.res.Durations.Total = it.res.Durations.Write + sres.Durations.Total
		if sres.Verdict != VerdictHealthy {
			it.res.Reason = sres.Reason
			if err := sres.Err(); err != nil {
				it.res.Error = err.Error()
			}
		}
	}
}

// write applies one plan; on a conflict it re-reads that workload alone
// (get and list) and re-plans, like a single undo.
func (b *BulkUndo) write(ctx context.Context, clients Clients, it *bulkItem, out bulkEmitter) error {
	u := b.Options
	u.Clients = clients
	for attempt := 0; ; attempt++ {
		if it.plan.PodsOnly {
			it.generation = it.plan.obj.meta().Generation
			return nil
		}
		gen, err := writeUndo(ctx, clients, it.plan)
		if err == nil {
			it.generation = gen
			return nil
		}
		if !isConcurrentChange(err) {
			return writeError(err, it.plan)
		}
		if attempt+1 >= maxConflicts {
			return keptChanging(err, it.plan)
		}
		before, writeErr := it.plan.obj, err
		plan, err := u.read(ctx, it.key())
		fill(it.res, plan)
		if err != nil {
			return fmt.Errorf("re-plan after a concurrent change: %w", err)
		}
		if stillSame(before, plan.obj) && !apierrors.IsConflict(writeErr) {
			return writeError(writeErr, plan)
		}
		changes := describeChange(before, plan.obj)
		it.res.ConcurrentChanges = append(it.res.ConcurrentChanges, changes...)
		out.emit(progress.Warning, it, fmt.Sprintf("%s: changed after rollback read it; re-planned: %v", it.label(), changes))
		it.plan = plan
		if plan.Skip {
			it.res.Verdict = VerdictSkipped
			return nil
		}
	}
}
