package rollout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	deployFields string // field selector of the Deployments
	deployLabels string // label selector of the Deployments
	podLabels    string // label selector of the pods and ReplicaSets
}

// monitor watches the rollouts of Deployments of one namespace with one
// watch each on Deployments, ReplicaSets and pods, and verifies them.
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
}

// tracked is the state of one Deployment being watched.
type tracked struct {
	name       string
	start      time.Time
	completeAt time.Time
	restarts   map[string]int32
	rs         *appsv1.ReplicaSet
	res        *StatusResult
	done       bool
	// sameTemplate remembers, per ReplicaSet, whether its template equals
	// the Deployment's, so that a template is compared once per generation
	// instead of on every event.
	sameTemplate map[types.UID]templateMatch
	// minGeneration is the Deployment generation the cache must show first.
	minGeneration int64
}

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

// byController indexes ReplicaSets and pods by the UID of their controller,
// so that a Deployment's ReplicaSets and a ReplicaSet's pods are found
// without scanning the namespace.
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
			return o, nil
		},
		Indexers: cache.Indexers{byController: controllerUID},
	})
	go ctrl.RunWithContext(ctx)
	return informer{store: store.(cache.Indexer), synced: ctrl.HasSynced}
}

// watches are one monitor's three watches (Deployments, ReplicaSets and
// pods of one namespace); they feed the caches that plans and verdicts read.
type watches struct {
	deploys, replicaSets, pods informer
	notify                     chan struct{}
	stop                       context.CancelFunc

	mu       sync.Mutex
	firstErr error // the first list or watch error before the caches synced
	// touched are the Deployments an event changed (their own, one of
	// their ReplicaSets' or pods') since the last look; touchedAll says
	// the owner of some event could not be told.
	touched    map[string]bool
	touchedAll bool
}

// touch records which Deployment the changed object o belongs to: the
// Deployment itself, the controller of a ReplicaSet, the controller of the
// ReplicaSet of a pod. Only those are judged again, so that the cost of an
// event does not grow with the number of Deployments watched.
func (w *watches) touch(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	name, ok := "", false
	switch o := o.(type) {
	case *appsv1.Deployment:
		name, ok = o.Name, true
	case *appsv1.ReplicaSet:
		name, ok = controllerName(o, "Deployment")
	case *corev1.Pod:
		if rsName, isRS := controllerName(o, "ReplicaSet"); isRS {
			if obj, exists, _ := w.replicaSets.store.GetByKey(o.Namespace + "/" + rsName); exists {
				name, ok = controllerName(obj.(*appsv1.ReplicaSet), "Deployment")
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !ok {
		w.touchedAll = true
		return
	}
	if w.touched == nil {
		w.touched = map[string]bool{}
	}
	w.touched[name] = true
}

// takeTouched returns the Deployments touched since the last call (all
// when an owner could not be told) and forgets them.
func (w *watches) takeTouched() (names map[string]bool, all bool) {
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
	w := &watches{notify: make(chan struct{}, 1), stop: cancel, touchedAll: true}
	w.deploys = startInformer(ctx, &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector, o.LabelSelector = scope.deployFields, scope.deployLabels
			return w.note(c.Deployments.List(ctx, o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector, o.LabelSelector = scope.deployFields, scope.deployLabels
			return w.noteWatch(c.Deployments.Watch(ctx, o))
		},
	}, &appsv1.Deployment{}, w.notify, w.touch)
	w.replicaSets = startInformer(ctx, &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = scope.podLabels
			return w.note(c.ReplicaSets.List(ctx, o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = scope.podLabels
			return w.noteWatch(c.ReplicaSets.Watch(ctx, o))
		},
	}, &appsv1.ReplicaSet{}, w.notify, w.touch)
	w.pods = startInformer(ctx, &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = scope.podLabels
			return w.note(c.Pods.List(ctx, o))
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = scope.podLabels
			return w.noteWatch(c.Pods.Watch(ctx, o))
		},
	}, &corev1.Pod{}, w.notify, w.touch)
	return w
}

// synced reports whether all three caches hold a full list.
func (w *watches) synced() bool {
	return w.deploys.synced() && w.replicaSets.synced() && w.pods.synced()
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
			return fmt.Errorf("the watch of deployments, replicasets and pods did not start: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// run watches names until each has a verdict and returns their results.
func (m *monitor) run(ctx context.Context, scope watchScope, names []string) map[string]*StatusResult {
	w := m.watch(ctx, scope)
	defer w.stop()
	return m.follow(ctx, w, names, nil)
}

// follow judges names from running watches until each has a verdict. A
// Deployment named in minGeneration is judged only once the cache holds at
// least that generation: watches started before a write may still show the
// Deployment as it was, fully rolled out on the bad template.
func (m *monitor) follow(ctx context.Context, w *watches, names []string, minGeneration map[string]int64) map[string]*StatusResult {
	deploys, replicaSets, pods, notify := w.deploys, w.replicaSets, w.pods, w.notify
	now := m.clock.Now()
	targets := make([]*tracked, 0, len(names))
	for _, n := range names {
		targets = append(targets, &tracked{name: n, start: now, minGeneration: minGeneration[n], res: &StatusResult{Deployment: n}})
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
		case <-notify:
		case <-ticker.C():
			tick = true
		}
		if !deploys.synced() || !replicaSets.synced() || !pods.synced() {
			if m.timeout > 0 && m.clock.Since(now) >= m.timeout {
				for _, t := range targets {
					if !t.done {
						m.finish(ctx, t, VerdictTimeout, fmt.Sprintf("timed out after %s before the watch started: can this identity list and watch deployments, replicasets and pods?", m.timeout), nil)
					}
				}
				pending = 0
			}
			continue
		}
		touched, all := w.takeTouched()
		for _, t := range targets {
			if t.done || !(all || touched[t.name] || (tick && m.dueAtTick(t))) {
				continue
			}
			m.step(ctx, t, deploys.store, replicaSets.store, pods.store)
			if t.done {
				pending--
			}
		}
	}
	out := map[string]*StatusResult{}
	for _, t := range targets {
		out[t.name] = t.res
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
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// newReplicaSet returns the ReplicaSet of d's current template, or nil.
func (t *tracked) newReplicaSet(d *appsv1.Deployment, store cache.Indexer) *appsv1.ReplicaSet {
	if t.sameTemplate == nil {
		t.sameTemplate = map[types.UID]templateMatch{}
	}
	var best *appsv1.ReplicaSet
	for _, rs := range owned[*appsv1.ReplicaSet](store, d.UID) {
		m, ok := t.sameTemplate[rs.UID]
		if !ok || m.rsGeneration != rs.Generation || m.deployGeneration != d.Generation {
			m = templateMatch{rsGeneration: rs.Generation, deployGeneration: d.Generation, same: equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template)}
			t.sameTemplate[rs.UID] = m
		}
		if !m.same {
			continue
		}
		if best == nil || rs.CreationTimestamp.Before(&best.CreationTimestamp) {
			best = rs
		}
	}
	return best
}

// step advances one target with the current caches.
func (m *monitor) step(ctx context.Context, t *tracked, deploys cache.Store, replicaSets, podStore cache.Indexer) {
	now := m.clock.Now()
	obj, exists, _ := deploys.GetByKey(namespaceKey(m, t, deploys))
	if !exists {
		m.finish(ctx, t, VerdictError, "the deployment was deleted while rollback watched it", nil)
		return
	}
	d := obj.(*appsv1.Deployment)
	t.res.Namespace = d.Namespace
	if d.Generation < t.minGeneration {
		if m.timeout > 0 && now.Sub(t.start) >= m.timeout {
			m.finish(ctx, t, VerdictTimeout, fmt.Sprintf("timed out after %s: the watch never showed generation %d of the deployment", m.timeout, t.minGeneration), nil)
		}
		return
	}
	rs := t.newReplicaSet(d, replicaSets)
	pods := podsOf(rs, podStore)
	if rs != nil {
		t.rs = rs
		t.res.ReplicaSet = rs.Name
		t.res.Images = templateImages(&rs.Spec.Template)
		t.res.Revision = revisionNumber(rs)
	}
	p := EvaluateRollout(d, rs, pods)
	t.res.Progress = p
	if d.Spec.Paused {
		m.finish(ctx, t, VerdictUnhealthy, "the deployment is paused: resume it with `rollback app resume "+t.name+"`", nil)
		return
	}
	if p.Failure != nil {
		m.finish(ctx, t, VerdictUnhealthy, p.Failure.String(), p.Failure)
		return
	}
	if p.DeadlineExceeded {
		m.finish(ctx, t, VerdictUnhealthy, fmt.Sprintf("ProgressDeadlineExceeded: the deployment made no progress for %ds (%s)", deref(d.Spec.ProgressDeadlineSeconds, 600), p), nil)
		return
	}
	if m.timeout > 0 && now.Sub(t.start) >= m.timeout {
		m.finish(ctx, t, VerdictTimeout, fmt.Sprintf("timed out after %s (%s)", m.timeout, p), nil)
		return
	}
	if t.completeAt.IsZero() {
		m.report(t, p, now)
		if p.Complete {
			t.completeAt = now
			t.res.Durations.Rollout = Duration(now.Sub(t.start))
			t.restarts = restartsOf(rs, pods)
			if m.settle > 0 && !m.quiet {
				m.emit(progress.Info, t, fmt.Sprintf("%s: revision %d rolled out (%s); watching restarts for %s", t.name, t.res.Revision, p, m.settle), nil)
			}
		}
		return
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
	for pod, n := range restartsOf(rs, pods) {
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

func namespaceKey(m *monitor, t *tracked, deploys cache.Store) string {
	if t.res.Namespace != "" {
		return t.res.Namespace + "/" + t.name
	}
	for _, o := range deploys.List() {
		if d, ok := o.(*appsv1.Deployment); ok && d.Name == t.name {
			return d.Namespace + "/" + d.Name
		}
	}
	return t.name
}

func restartsOf(rs *appsv1.ReplicaSet, pods []*corev1.Pod) map[string]int32 {
	out := map[string]int32{}
	for _, p := range pods {
		if rs != nil && ownedBy(p, rs) && p.DeletionTimestamp == nil {
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
	progress.Emit(m.obs, progress.Event{Time: now, Kind: progress.Update, Source: source, Target: "deployment/" + t.name,
		Message: fmt.Sprintf("%s: revision %d: %s", t.name, t.res.Revision, p), Elapsed: now.Sub(t.start)})
}

// source is the Source of this package's events.
const source = "rollout"

// emit sends one event about t.
func (m *monitor) emit(kind progress.Kind, t *tracked, msg string, data any) {
	progress.Emit(m.obs, progress.Event{Time: m.clock.Now(), Kind: kind, Source: source, Target: "deployment/" + t.name, Message: msg, Data: data})
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
	if t.rs != nil && verdict == VerdictHealthy && !m.holdGood {
		if err := StampGood(ctx, m.clients.ReplicaSets, t.rs, m.stampBy, now); err != nil {
			t.res.Warnings = append(t.res.Warnings, fmt.Sprintf("could not stamp revision %d known-good: %v", t.res.Revision, err))
		} else {
			t.res.MarkedGood = true
		}
	}
	if t.rs != nil && verdict == VerdictUnhealthy {
		if err := StampFailed(ctx, m.clients.ReplicaSets, t.rs, reason, now); err != nil {
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
		s := fmt.Sprintf("%s: revision %d is healthy: %d/%d ready, restarts stable", r.Deployment, r.Revision, r.Progress.Ready, r.Progress.Desired)
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
		return fmt.Sprintf("%s: revision %d: %s", r.Deployment, r.Revision, r.Reason)
	}
	return fmt.Sprintf("%s: revision %d is %s: %s (after %s)", r.Deployment, r.Revision, r.Verdict, r.Reason, r.Durations.Total)
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
