package rollout

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// DefaultConcurrency bounds the concurrent writes of a bulk undo.
const DefaultConcurrency = 10

// BulkUndo undoes every Deployment matching a label selector, concurrently.
// It reads with one list of Deployments, then starts one watch per resource
// (Deployments, ReplicaSets, pods) and namespace, plans from those watches'
// caches and judges the rollouts from the same caches, so that an undo costs
// about two API requests per Deployment and every object is decoded once.
type BulkUndo struct {
	Clientset kubernetes.Interface
	// Namespace limits the undo to one namespace; "" means all namespaces.
	Namespace string
	Selector  string
	// Options carries the per-Deployment settings (ToRevision, DryRun,
	// Force, Verification, Observer); its Clients, Confirm and BeforeWrite
	// are not used.
	Options Undo
	// ConfirmAll is asked once before any write with every plan to apply;
	// nil means yes.
	ConfirmAll func([]*Plan) (bool, error)
	// Concurrency bounds concurrent writes; 0 means DefaultConcurrency.
	Concurrency int
}

// BulkResult is the outcome of a bulk undo, one result per Deployment.
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
	return outcome.As(worst, fmt.Errorf("%d of %d deployments were not rolled back healthy (see the table)", n, len(r.Results)))
}

// bulkItem is one Deployment of a bulk undo.
type bulkItem struct {
	plan *Plan
	res  *UndoResult
	// generation is the Deployment's generation after the undo's write;
	// the watch cache must reach it before the rollout is judged.
	generation int64
}

// Run plans every matching Deployment, asks once, writes concurrently and
// watches each namespace's rollouts with one set of watches.
func (b *BulkUndo) Run(ctx context.Context) (*BulkResult, error) {
	clk := b.Options.clock()
	start := clk.Now()
	out := bulkEmitter{obs: b.Options.Observer, clk: clk}
	res := &BulkResult{Selector: b.Selector, Namespace: b.Namespace, Counts: map[Verdict]int{}}
	list, err := b.Clientset.AppsV1().Deployments(b.Namespace).List(ctx, metav1.ListOptions{LabelSelector: b.Selector})
	if err != nil {
		return nil, fmt.Errorf("list deployments matching %q: %w", b.Selector, err)
	}
	if len(list.Items) == 0 {
		where := "namespace " + b.Namespace
		if b.Namespace == "" {
			where = "any namespace"
		}
		return nil, outcome.AsRefused(fmt.Errorf("no deployment in %s matches %q", where, b.Selector))
	}
	byNS := map[string][]*appsv1.Deployment{}
	for i := range list.Items {
		d := &list.Items[i]
		byNS[d.Namespace] = append(byNS[d.Namespace], d)
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
			nm := b.startMonitor(ctx, ns)
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
				out.emit(progress.Info, ns, it.res.Deployment, fmt.Sprintf("%s/%s: %s: %s", ns, it.res.Deployment, it.res.Verdict, it.res.Error))
			case it.plan.Skip:
				it.res.Verdict = VerdictSkipped
				out.emit(progress.Info, ns, it.res.Deployment, fmt.Sprintf("%s/%s: skipped: already at %s", ns, it.res.Deployment, it.plan.Reason))
			default:
				out.emit(progress.Plan, ns, it.res.Deployment, fmt.Sprintf("%s/%s: revision %d (%s) -> revision %d (%s): %s", ns, it.res.Deployment, it.res.FromRevision,
					imagesString(it.res.ImagesBefore), it.res.ToRevision, imagesString(it.res.ImagesAfter), it.plan.Reason))
				for _, w := range it.plan.Warnings {
					out.emit(progress.Warning, ns, it.res.Deployment, "  warning: "+w)
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

func (e bulkEmitter) emit(kind progress.Kind, ns, name, msg string) {
	progress.Emit(e.obs, progress.Event{Time: e.clk.Now(), Kind: kind, Source: source, Target: "deployment/" + ns + "/" + name, Message: msg})
}

// nsMonitor is the monitor of one namespace and its running watches.
type nsMonitor struct {
	clients Clients
	m       *monitor
	w       *watches
}

// startMonitor starts the watches of namespace ns: Deployments matching the
// selector, and all ReplicaSets and pods (a selector's Deployments may
// select their pods with any labels).
func (b *BulkUndo) startMonitor(ctx context.Context, ns string) *nsMonitor {
	st := b.Options.status()
	st.Clients = NewClients(b.Clientset, ns)
	m := st.monitor("undo")
	m.quiet = true
	return &nsMonitor{clients: st.Clients, m: m, w: m.watch(ctx, watchScope{deployLabels: b.Selector})}
}

// planNamespace plans the undo of ds, all in namespace ns, from the
// ReplicaSets in the namespace's watch cache.
func (b *BulkUndo) planNamespace(ctx context.Context, ns string, ds []*appsv1.Deployment, nm *nsMonitor) []*bulkItem {
	var out []*bulkItem
	syncErr := nm.w.waitSynced(ctx, b.Options.Verification.Timeout)
	// One start check per namespace: each object is read once.
	start := nm.clients.startChecker(ns, b.Options.Snapshots)
	for _, d := range ds {
		it := &bulkItem{res: &UndoResult{Deployment: d.Name, Namespace: ns, Verdict: VerdictError, ImagesBefore: templateImages(&d.Spec.Template)}}
		out = append(out, it)
		if syncErr != nil {
			it.res.Error = fmt.Sprintf("list replicasets in namespace %s: %v", ns, syncErr)
			if outcome.KindOf(syncErr) == outcome.Refused || apierrors.IsForbidden(syncErr) || apierrors.IsUnauthorized(syncErr) {
				it.res.Verdict = VerdictRefused
			}
			continue
		}
		owned := owned[*appsv1.ReplicaSet](nm.w.replicaSets.store, d.UID)
		rss := make([]appsv1.ReplicaSet, len(owned))
		for i, rs := range owned {
			rss[i] = *rs
		}
		plan, err := PlanUndo(ctx, d, rss, b.Options.planOptions(nm.clients, ns, start))
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

// undoNamespace writes the plans of one namespace and watches them.
func (b *BulkUndo) undoNamespace(ctx context.Context, ns string, items []*bulkItem, nm *nsMonitor, sem chan struct{}, out bulkEmitter, pendingWrite func(*bulkItem) bool) {
	defer nm.w.stop()
	clients := nm.clients
	clk := b.Options.clock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var written []string
	minGeneration := map[string]int64{}
	byName := map[string]*bulkItem{}
	for _, it := range items {
		if !pendingWrite(it) {
			continue
		}
		byName[it.res.Deployment] = it
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
			written = append(written, it.res.Deployment)
			minGeneration[it.res.Deployment] = it.generation
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(written) == 0 {
		return
	}
	sort.Strings(written)
	results := nm.m.follow(ctx, nm.w, written, minGeneration)
	for name, sres := range results {
		it := byName[name]
		sres.Namespace = ns
		it.res.Status = sres
		it.res.NewRevision = sres.Revision
		it.res.Verdict = sres.Verdict
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

// write applies one plan; on a conflict it re-reads that Deployment alone
// (get and list) and re-plans, like a single undo.
func (b *BulkUndo) write(ctx context.Context, clients Clients, it *bulkItem, out bulkEmitter) error {
	u := b.Options
	u.Clients = clients
	for attempt := 0; ; attempt++ {
		d, err := writeUndo(ctx, clients, it.plan)
		if err == nil {
			it.generation = d.Generation
			return nil
		}
		if !isConcurrentChange(err) {
			return writeError(err, it.plan)
		}
		if attempt+1 >= maxConflicts {
			return keptChanging(err, it.plan)
		}
		before, writeErr := it.plan.deployment, err
		plan, err := u.read(ctx, it.res.Deployment)
		fill(it.res, plan)
		if err != nil {
			return fmt.Errorf("re-plan after a concurrent change: %w", err)
		}
		if stillSame(before, plan.deployment) && !apierrors.IsConflict(writeErr) {
			return writeError(writeErr, plan)
		}
		changes := describeChange(before, plan.deployment)
		it.res.ConcurrentChanges = append(it.res.ConcurrentChanges, changes...)
		out.emit(progress.Warning, plan.Namespace, plan.Deployment, fmt.Sprintf("%s/%s: changed after rollback read it; re-planned: %v", plan.Namespace, plan.Deployment, changes))
		it.plan = plan
		if plan.Skip {
			it.res.Verdict = VerdictSkipped
			return nil
		}
	}
}
