package rollout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/redact"
)

// tickInterval wakes the watch loop to end settle windows and timeouts and
// to refresh the progress line; it makes no API request.
const tickInterval = 200 * time.Millisecond

// watchScope selects what one monitor watches in its namespace.
type watchScope struct {
	kinds     []Kind // the workload kinds watched
	fields    string // field selector of the workloads
	labels    string // label selector of the workloads
	podLabels string // label selector of the pods and revisions
}

// singleScope is the scope of one workload's watch.
func singleScope(o object) watchScope {
	return watchScope{kinds: []Kind{o.kind()}, fields: fields.OneTermEqualSelector("metadata.name", o.meta().Name).String(), podLabels: o.selector()}
}

// monitor watches the rollouts of workloads of one namespace with one
// watch each on the workloads of each kind, the objects holding their
// revisions (ReplicaSets, ControllerRevisions) and pods, and verifies them.
type monitor struct {
	clients Clients
	clock   clock.WithTicker
	obs     progress.Observer
	timeout time.Duration
	settle  time.Duration
	urls    []string
	http    *http.Client
	stampBy string
	// holdGood leaves a healthy revision unstamped (guard stamps after its bake).
	holdGood bool
	// quiet prints only verdicts, not every progress change (bulk undo).
	quiet bool
	// replaceStuck deletes the failing pod of another revision that an
	// OrderedReady StatefulSet waits for instead of replacing it
	// (kubernetes/kubernetes#67250): an undo's watch.
	replaceStuck bool
	// replacePods replaces, one at a time, the pods an OnDelete strategy
	// keeps at other revisions: an undo with --replace-pods.
	replacePods bool
}

// tracked is the state of one workload being watched.
type tracked struct {
	w          Workload
	start      time.Time
	completeAt time.Time
	restarts   map[string]int32
	rev        *revisionSource
	res        *StatusResult
	done       bool
	// sameTemplate remembers, per revision object, whether its template
	// equals the workload's, so that a template is compared once per
	// generation instead of on every event.
	sameTemplate map[types.UID]templateMatch
	// sources keeps the decoded ControllerRevisions by UID (their data
	// never changes), so that each is decoded once.
	sources map[types.UID]*revisionSource
	// minGeneration is the workload generation the cache must show first.
	minGeneration int64
	// deleted are the pods this watch deleted, by UID: each at most once.
	deleted map[types.UID]bool
	// alive is how many of the workload's pods were live when this watch
	// last deleted one: the next waits until the replacement is there.
	alive int
}

// key is a tracked workload's key among its namespace's: kind and name.
func key(k Kind, name string) Workload { return Workload{Kind: k, Name: name} }

// templateMatch is one remembered template comparison.
type templateMatch struct {
	rsGeneration, deployGeneration int64
	same                           bool
}

// informer is one watched resource: its cache, indexed by controller, and
// whether it has synced.
type informer struct {
	store  cache.Indexer
	synced cache.InformerSynced
}

// byController indexes revision objects and pods by the UID of their
// controller, so that a workload's revisions and pods (or a ReplicaSet's
// pods) are found without scanning the namespace.
const byController = "controller"

func controllerUID(o any) ([]string, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// owned returns the objects of store whose controller is uid.
func owned[T any](store cache.Indexer, uid types.UID) []T {
	objs, _ := store.ByIndex(byController, string(uid))
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// startInformer lists and watches with lw until ctx ends, keeping objects
// without managedFields; on every event it tells touch which object changed
// and pokes notify (without blocking), so that bursts of events are judged
// once.
func startInformer(ctx context.Context, lw cache.ListerWatcher, obj runtime.Object, notify chan struct{}, touch func(any)) informer {
	poke := func(o any) {
		touch(o)
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	logger := klog.FromContext(ctx)
	store, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		Logger:        &logger,
		ListerWatcher: lw,
		ObjectType:    obj,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { poke(o) },
			UpdateFunc: func(_, o any) { poke(o) },
			DeleteFunc: func(o any) { poke(o) },
		},
		Transform: func(o any) (any, error) {
			if m, ok := o.(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
			if p, ok := o.(*corev1.Pod); ok {
				// Pods are judged from their metadata and status alone; a
				// thousand pod specs (env, volumes) are not kept.
				p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName}
			}
			return o, nil
		},
		Indexers: cache.Indexers{byController: controllerUID},
	})
	go ctrl.RunWithContext(ctx)
	return informer{store: store.(cache.Indexer), synced: ctrl.HasSynced}
}

// watches are one monitor's watches of one namespace: the workloads of
// each kind, the objects holding their revisions (ReplicaSets,
// ControllerRevisions) and the pods; they feed the caches that plans and
// verdicts read.
type watches struct {
	workloads map[Kind]informer
	// replicaSets and revisions are nil when no kind needs them.
	replicaSets, revisions *informer
	pods                   informer
	notify                 chan struct{}
	stop                   context.CancelFunc

	mu       sync.Mutex
	firstErr error // the first list or watch error before the caches synced
	// touched are the workloads an event changed (their own, one of their
	// revisions' or pods') since the last look; touchedAll says the owner
	// of some event could not be told.
	touched    map[Workload]bool
	touchedAll bool
}

// touch records which workload the changed object o belongs to: the
// workload itself, the controller of a revision object, the controller of
// a pod (for a Deployment's pod, the controller of its ReplicaSet). Only
// those are judged again, so that the cost of an event does not grow with
// the number of workloads watched.
func (w *watches) touch(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	var k Workload
	ok := false
	switch o := o.(type) {
	case *appsv1.Deployment:
		k, ok = key(KindDeployment, o.Name), true
	case *appsv1.StatefulSet:
		k, ok = key(KindStatefulSet, o.Name), true
	case *appsv1.DaemonSet:
		k, ok = key(KindDaemonSet, o.Name), true
	case *appsv1.ReplicaSet:
		k, ok = controllerKey(o)
	case *appsv1.ControllerRevision:
		k, ok = controllerKey(o)
	case *corev1.Pod:
		if rsName, isRS := controllerName(o, "ReplicaSet"); isRS {
			if w.replicaSets != nil {
				if obj, exists, _ := w.replicaSets.store.GetByKey(o.Namespace + "/" + rsName); exists {
					k, ok = controllerKey(obj.(*appsv1.ReplicaSet))
				}
			}
		} else {
			k, ok = controllerKey(o)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !ok {
		w.touchedAll = true
		return
	}
	if w.touched == nil {
		w.touched = map[Workload]bool{}
	}
	w.touched[k] = true
}

// controllerKey returns the workload that controls o, when it is one.
func controllerKey(o metav1.Object) (Workload, bool) {
	ref := metav1.GetControllerOfNoCopy(o)
	if ref == nil {
		return Workload{}, false
	}
	switch Kind(ref.Kind) {
	case KindDeployment, KindStatefulSet, KindDaemonSet:
		return key(Kind(ref.Kind), ref.Name), true
	}
	return Workload{}, false
}

// takeTouched returns the workloads touched since the last call (all
// when an owner could not be told) and forgets them.
func (w *watches) takeTouched() (names map[Workload]bool, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	names, all = w.touched, w.touchedAll
	w.touched, w.touchedAll = nil, false
	return names, all
}

// controllerName returns the name of o's controller when it is of kind.
func controllerName(o metav1.Object, kind string) (string, bool) {
	if ref := metav1.GetControllerOfNoCopy(o); ref != nil && ref.Kind == kind {
		return ref.Name, true
	}
	return "", false
}

// watch starts the watches of scope; stop them with w.stop.
func (m *monitor) watch(ctx context.Context, scope watchScope) *watches {
	ctx, cancel := context.WithCancel(ctx)
	c := m.clients
	w := &watches{notify: make(chan struct{}, 1), stop: cancel, touchedAll: true, workloads: map[Kind]informer{}}
	start := func(obj runtime.Object, list func(context.Context, metav1.ListOptions) (runtime.Object, error),
		watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error), fieldSel, labelSel string) informer {
		return startInformer(ctx, &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.FieldSelector, o.LabelSelector = fieldSel, labelSel
				return w.note(list(ctx, o))
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				o.FieldSelector, o.LabelSelector = fieldSel, labelSel
				return w.noteWatch(watchFn(ctx, o))
			},
		}, obj, w.notify, w.touch)
	}
	needCRs := false
	for _, k := range scope.kinds {
		switch k {
		case KindDeployment:
			w.workloads[k] = start(&appsv1.Deployment{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.Deployments.List(ctx, o)
			},
				c.Deployments.Watch, scope.fields, scope.labels)
			rs := start(&appsv1.ReplicaSet{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.ReplicaSets.List(ctx, o)
			},
				c.ReplicaSets.Watch, "", scope.podLabels)
			w.replicaSets = &rs
		case KindStatefulSet:
			w.workloads[k] = start(&appsv1.StatefulSet{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.StatefulSets.List(ctx, o)
			},
				c.StatefulSets.Watch, scope.fields, scope.labels)
			needCRs = true
		case KindDaemonSet:
			w.workloads[k] = start(&appsv1.DaemonSet{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.DaemonSets.List(ctx, o)
			},
				c.DaemonSets.Watch, scope.fields, scope.labels)
			needCRs = true
		}
	}
	if needCRs {
		crs := start(&appsv1.ControllerRevision{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return c.ControllerRevisions.List(ctx, o)
		}, c.ControllerRevisions.Watch, "", scope.podLabels)
		w.revisions = &crs
	}
	w.pods = start(&corev1.Pod{}, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.Pods.List(ctx, o) },
		c.Pods.Watch, "", scope.podLabels)
	return w
}

// synced reports whether every cache holds a full list.
func (w *watches) synced() bool {
	for _, i := range w.workloads {
		if !i.synced() {
			return false
		}
	}
	for _, i := range []*informer{w.replicaSets, w.revisions} {
		if i != nil && !i.synced() {
			return false
		}
	}
	return w.pods.synced()
}

func (w *watches) note(obj runtime.Object, err error) (runtime.Object, error) {
	w.record(err)
	return obj, err
}

// noteWatch records only errors a retry cannot fix: a watch-list that the
// server does not support fails too, and the informer then falls back to a
// list, whose error note records.
func (w *watches) noteWatch(wi watch.Interface, err error) (watch.Interface, error) {
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		w.record(err)
	}
	return wi, err
}

func (w *watches) record(err error) {
	if err == nil || w.synced() {
		return
	}
	w.mu.Lock()
	if w.firstErr == nil {
		w.firstErr = err
	}
	w.mu.Unlock()
}

// waitSynced waits until the caches are synced. It fails fast with the
// first list or watch error (forbidden, unreachable), and after timeout.
func (w *watches) waitSynced(ctx context.Context, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !w.synced() {
		w.mu.Lock()
		err := w.firstErr
		w.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the watch of the workloads, their revisions and pods did not start: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// follow judges ws (kind and name) from running watches until each has a
// verdict. A workload named in minGeneration is judged only once the cache
// holds at least that generation: watches started before a write may still
// show the workload as it was, fully rolled out on the bad template.
func (m *monitor) follow(ctx context.Context, w *watches, ws []Workload, minGeneration map[Workload]int64) map[Workload]*StatusResult {
	now := m.clock.Now()
	targets := make([]*tracked, 0, len(ws))
	for _, x := range ws {
		k := key(x.Kind, x.Name)
		targets = append(targets, &tracked{w: k, start: now, minGeneration: minGeneration[k], res: newStatusResult(x)})
	}
	ticker := m.clock.NewTicker(tickInterval)
	defer ticker.Stop()
	pending := len(targets)
	for pending > 0 {
		tick := false
		select {
		case <-ctx.Done():
			for _, t := range targets {
				if !t.done {
					m.finishCtx(ctx, t)
				}
			}
			pending = 0
			continue
		case <-w.notify:
		case <-ticker.C():
			tick = true
		}
		if !w.synced() {
			if m.timeout > 0 && m.clock.Since(now) >= m.timeout {
				for _, t := range targets {
					if !t.done {
						m.finish(ctx, t, VerdictTimeout, fmt.Sprintf("timed out after %s before the watch started: can this identity list and watch %s, their revisions and pods?", m.timeout, t.w.Kind.Resource()), nil)
					}
				}
				pending = 0
			}
			continue
		}
		touched, all := w.takeTouched()
		for _, t := range targets {
			if t.done || !(all || touched[t.w] || (tick && m.dueAtTick(t))) {
				continue
			}
			m.step(ctx, t, w)
			if t.done {
				pending--
			}
		}
	}
	out := map[Workload]*StatusResult{}
	for _, t := range targets {
		out[t.w] = t.res
	}
	return out
}

// dueAtTick reports whether t must be judged at a tick without an event:
// its settle window or its timeout may have run out, or a terminal shows
// its progress with the time elapsed (a single, not quiet, watch).
func (m *monitor) dueAtTick(t *tracked) bool {
	return !m.quiet || !t.completeAt.IsZero() || (m.timeout > 0 && m.clock.Since(t.start) >= m.timeout)
}

// podsOf returns the pods rs controls, sorted by name, so that the first
// failing pod reported is always the same one.
func podsOf(rs *appsv1.ReplicaSet, store cache.Indexer) []*corev1.Pod {
	if rs == nil {
		return nil
	}
	out := owned[*corev1.Pod](store, rs.UID)
	sortPods(out)
	return out
}

// currentRevision returns the object holding o's current template, or
// nil: for a Deployment the oldest ReplicaSet with its template (the
// controller adopts it), for a StatefulSet or DaemonSet the
// ControllerRevision with it.
func (t *tracked) currentRevision(o object, w *watches) *revisionSource {
	if t.sameTemplate == nil {
		t.sameTemplate = map[types.UID]templateMatch{}
		t.sources = map[types.UID]*revisionSource{}
	}
	m := o.meta()
	var srcs []*revisionSource
	if o.d != nil && w.replicaSets != nil {
		for _, rs := range owned[*appsv1.ReplicaSet](w.replicaSets.store, m.UID) {
			srcs = append(srcs, replicaSetSource(rs))
		}
	}
	if o.d == nil && w.revisions != nil {
		for _, cr := range owned[*appsv1.ControllerRevision](w.revisions.store, m.UID) {
			src := t.sources[cr.UID]
			if src == nil || src.cr.ResourceVersion != cr.ResourceVersion {
				src = controllerRevisionSource(cr)
				t.sources[cr.UID] = src
			}
			srcs = append(srcs, src)
		}
	}
	var best *revisionSource
	for _, src := range srcs {
		sm := src.meta()
		match, ok := t.sameTemplate[sm.UID]
		if !ok || match.rsGeneration != sm.Generation || match.deployGeneration != m.Generation {
			match = templateMatch{rsGeneration: sm.Generation, deployGeneration: m.Generation, same: src.sameTemplate(o)}
			t.sameTemplate[sm.UID] = match
		}
		if !match.same {
			continue
		}
		if best == nil || sm.CreationTimestamp.Before(&best.meta().CreationTimestamp) {
			best = src
		}
	}
	if best == nil && o.d == nil && len(srcs) > 0 {
		revs := revisions(o, srcs, nil)
		markControllerCurrent(o, revs)
		if cur := current(revs); cur != nil {
			best = cur.src
		}
	}
	return best
}

// podsFor returns the pods to judge o's rollout of src by: a Deployment's
// pods of src's ReplicaSet, a StatefulSet's or DaemonSet's every pod.
func podsFor(o object, src *revisionSource, w *watches) []*corev1.Pod {
	if o.d != nil {
		if src == nil {
			return nil
		}
		return podsOf(src.rs, w.pods.store)
	}
	out := owned[*corev1.Pod](w.pods.store, o.meta().UID)
	sortPods(out)
	return out
}

// step advances one target with the current caches.
func (m *monitor) step(ctx context.Context, t *tracked, w *watches) {
	now := m.clock.Now()
	inf, ok := w.workloads[t.w.Kind]
	if !ok {
		m.finish(ctx, t, VerdictError, "no watch of "+t.w.Kind.Resource(), nil)
		return
	}
	obj, exists, _ := inf.store.GetByKey(namespaceKey(t, inf.store))
	if !exists {
		m.finish(ctx, t, VerdictError, fmt.Sprintf("the %s was deleted while rollback watched it", t.w.Kind.Lower()), nil)
		return
	}
	o, _ := objectOf(obj)
	t.res.Namespace = o.meta().Namespace
	if o.meta().Generation < t.minGeneration {
		if m.timeout > 0 && now.Sub(t.start) >= m.timeout {
			m.finish(ctx, t, VerdictTimeout, fmt.Sprintf("timed out after %s: the watch never showed generation %d of the %s", m.timeout, t.minGeneration, t.w.Kind.Lower()), nil)
		}
		return
	}
	src := t.currentRevision(o, w)
	pods := podsFor(o, src, w)
	if src != nil {
		t.rev = src
		t.res.setRevision(o.kind(), src)
	}
	p, pp := evaluate(o, src, pods)
	t.res.Progress = p
	t.res.Notes = pp.notes(o)
	if o.paused() {
		m.finish(ctx, t, VerdictUnhealthy, "the deployment is paused: resume it with `rollback app resume "+t.w.Name+"`", nil)
		return
	}
	if p.Failure != nil {
		m.finish(ctx, t, VerdictUnhealthy, p.Failure.String(), p.Failure)
		return
	}
	if p.DeadlineExceeded {
		m.finish(ctx, t, VerdictUnhealthy, fmt.Sprintf("ProgressDeadlineExceeded: the deployment made no progress for %ds (%s)", deref(o.d.Spec.ProgressDeadlineSeconds, 600), p), nil)
		return
	}
	if m.timeout > 0 && now.Sub(t.start) >= m.timeout {
		reason := fmt.Sprintf("timed out after %s (%s)", m.timeout, p)
		if len(t.res.Notes) > 0 {
			reason += "; " + strings.Join(t.res.Notes, "; ")
		}
		m.finish(ctx, t, VerdictTimeout, reason, nil)
		return
	}
	if t.completeAt.IsZero() {
		m.report(t, p, now)
		if !p.Complete {
			m.replace(ctx, t, o, pods, pp)
			return
		}
		t.completeAt = now
		t.res.Durations.Rollout = Duration(now.Sub(t.start))
		t.restarts = restartsOf(o.kind(), src, pods)
		if m.settle > 0 {
			if !m.quiet {
				m.emit(progress.Info, t, fmt.Sprintf("%s: revision %d rolled out (%s); watching restarts for %s", t.w.Arg(), t.res.Revision, p, m.settle), nil)
			}
			return
		}
		// No settle window: judged now, not at the next tick.
	}
	// Settle window: the rollout stays complete and no pod restarts.
	if !p.Complete {
		reason := "the rollout stopped being complete during the settle window (" + p.String() + ")"
		if p.NotReady != "" {
			reason = "pod " + p.NotReady + " became not ready during the settle window"
		}
		m.finish(ctx, t, VerdictUnhealthy, reason, nil)
		return
	}
	for pod, n := range restartsOf(o.kind(), src, pods) {
		if before, ok := t.restarts[pod]; ok && n > before {
			m.finish(ctx, t, VerdictUnhealthy, fmt.Sprintf("pod %s restarted during the settle window (restarts %d -> %d)", pod, before, n), nil)
			return
		}
	}
	if now.Sub(t.completeAt) < m.settle {
		return
	}
	t.res.Durations.Settle = Duration(now.Sub(t.completeAt))
	checkStart := m.clock.Now()
	t.res.Checks = m.checkURLs(ctx)
	t.res.Durations.Checks = Duration(m.clock.Now().Sub(checkStart))
	for _, c := range t.res.Checks {
		if !c.OK {
			m.finish(ctx, t, VerdictUnhealthy, fmt.Sprintf("health check %s did not answer 2xx (%s)", c.URL, checkAnswer(c)), nil)
			return
		}
	}
	m.finish(ctx, t, VerdictHealthy, "", nil)
}

func checkAnswer(c URLCheck) string {
	if c.Error != "" {
		return c.Error
	}
	return fmt.Sprintf("HTTP %d", c.Status)
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func namespaceKey(t *tracked, store cache.Store) string {
	if t.res.Namespace != "" {
		return t.res.Namespace + "/" + t.w.Name
	}
	for _, o := range store.List() {
		if m, ok := o.(metav1.Object); ok && m.GetName() == t.w.Name {
			return m.GetNamespace() + "/" + m.GetName()
		}
	}
	return t.w.Name
}

// restartsOf returns the restart counts of the pods of revision src of a
// workload of kind k.
func restartsOf(k Kind, src *revisionSource, pods []*corev1.Pod) map[string]int32 {
	out := map[string]int32{}
	if src == nil {
		return out
	}
	ref := src.ref(k)
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if (src.rs != nil && ownedBy(p, src.rs)) || (src.cr != nil && ref.holds(p)) {
			out[p.Name] = PodRestarts(p)
		}
	}
	return out
}

// report emits the rollout's progress as an Update event: at every tick, so
// that a terminal can show the time elapsed; a renderer of plain lines
// prints only the changes.
func (m *monitor) report(t *tracked, p Progress, now time.Time) {
	if m.quiet {
		return
	}
	progress.Emit(m.obs, progress.Event{Time: now, Kind: progress.Update, Source: source, Target: t.w.String(),
		Message: fmt.Sprintf("%s: revision %d: %s", t.w.Arg(), t.res.Revision, p), Elapsed: now.Sub(t.start)})
}

// source is the Source of this package's events.
const source = "rollout"

// emit sends one event about t.
func (m *monitor) emit(kind progress.Kind, t *tracked, msg string, data any) {
	progress.Emit(m.obs, progress.Event{Time: m.clock.Now(), Kind: kind, Source: source, Target: t.w.String(), Message: msg, Data: data})
}

func (m *monitor) checkURLs(ctx context.Context) []URLCheck {
	var out []URLCheck
	for _, u := range m.urls {
		c := URLCheck{URL: redact.URL(u)}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			var resp *http.Response
			resp, err = m.http.Do(req)
			if err == nil {
				c.Status = resp.StatusCode
				resp.Body.Close()
			}
		}
		if err != nil {
			c.Error = redact.String(err.Error())
		}
		c.OK = err == nil && c.Status >= 200 && c.Status < 300
		out = append(out, c)
	}
	return out
}

// finishCtx ends t because ctx ended.
func (m *monitor) finishCtx(ctx context.Context, t *tracked) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		m.finish(context.WithoutCancel(ctx), t, VerdictTimeout, "timed out ("+t.res.Progress.String()+")", nil)
		return
	}
	t.done = true
	t.res.Verdict = VerdictCancelled
	t.res.Reason = "interrupted"
	t.res.Durations.Total = Duration(m.clock.Now().Sub(t.start))
}

// finish records the verdict of t and stamps its revision.
func (m *monitor) finish(ctx context.Context, t *tracked, verdict Verdict, reason string, failure *PodFailure) {
	now := m.clock.Now()
	t.done = true
	t.res.Verdict, t.res.Reason, t.res.Failure = verdict, reason, failure
	t.res.Durations.Total = Duration(now.Sub(t.start))
	t.res.HeldGood = verdict == VerdictHealthy && m.holdGood
	if t.res.Durations.Rollout == 0 && !t.completeAt.IsZero() {
		t.res.Durations.Rollout = Duration(t.completeAt.Sub(t.start))
	}
	if t.rev != nil && verdict == VerdictHealthy && !m.holdGood {
		if err := StampGood(ctx, m.clients, t.rev.ref(t.w.Kind), m.stampBy, now); err != nil {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("could not stamp revision %d known-good: %v", t.res.Revision, err))
		} else {
			t.res.MarkedGood = true
		}
	}
	if t.rev != nil && verdict == VerdictUnhealthy {
		if err := StampFailed(ctx, m.clients, t.rev.ref(t.w.Kind), reason, now); err != nil {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("could not stamp revision %d failed: %v", t.res.Revision, err))
		}
	}
	if t.res.Failure != nil {
		t.res.Failure.Message = joinNonEmpty(t.res.Failure.Message, lastWarningEvent(ctx, m.clients, t.res.Failure.Pod))
	}
	line := verdictLine(t.res)
	if m.quiet {
		line = t.res.Namespace + "/" + line
	}
	m.emit(progress.Verdict, t, line, t.res)
	for _, w := range t.res.Warnings {
		m.emit(progress.Warning, t, "warning: "+w, nil)
	}
}

// verdictLine is the one-line verdict of a watched rollout.
func verdictLine(r *StatusResult) string {
	switch r.Verdict {
	case VerdictHealthy:
		s := fmt.Sprintf("%s: revision %d is healthy: %d/%d ready, restarts stable", r.label(), r.Revision, r.Progress.Ready, r.Progress.Desired)
		if len(r.Checks) > 0 {
			s += fmt.Sprintf(", %d health %s 2xx", len(r.Checks), plural(len(r.Checks), "check", "checks"))
		}
		if r.MarkedGood {
			s += "; stamped known-good"
		} else if r.HeldGood {
			s += "; known-good stamp held"
		}
		return s + fmt.Sprintf(" (%s)", r.Durations.Total)
	case VerdictTimeout:
		return fmt.Sprintf("%s: revision %d: %s", r.label(), r.Revision, r.Reason)
	}
	return fmt.Sprintf("%s: revision %d is %s: %s (after %s)", r.label(), r.Revision, r.Verdict, r.Reason, r.Durations.Total)
}

// lastWarningEvent returns the newest Warning event message of pod, if any.
func lastWarningEvent(ctx context.Context, c Clients, pod string) string {
	if c.Events == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	list, err := c.Events.List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
	if err != nil {
		return ""
	}
	var best *corev1.Event
	for i := range list.Items {
		e := &list.Items[i]
		if e.Type == corev1.EventTypeWarning && (best == nil || e.LastTimestamp.After(best.LastTimestamp.Time)) {
			best = e
		}
	}
	if best == nil {
		return ""
	}
	return "last event: " + best.Reason + ": " + best.Message
}
