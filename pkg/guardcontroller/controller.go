package guardcontroller

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/rollout"
)

// DefaultMaxConcurrent is how many Deployments are guarded at once by default.
const DefaultMaxConcurrent = 20

// Controller guards the rollouts of opted-in Deployments. Run it only while
// holding the leadership (RunWithLeaderElection does that).
type Controller struct {
	// Client reaches the cluster.
	Client kubernetes.Interface
	// Namespace limits the watch to one namespace; empty watches all.
	Namespace string
	// Clock is injected for tests.
	Clock clock.WithTicker
	// Logger receives one structured record per decision and progress
	// event (the command logs JSON to stderr); nil discards them.
	Logger *slog.Logger
	// Identity names this replica in states, Events and journal entries (hostname_pid).
	Identity string
	// MaxConcurrent bounds the guards running at once (DefaultMaxConcurrent when 0).
	MaxConcurrent int
	// HTTPClient makes the check-URL and Prometheus requests.
	HTTPClient *http.Client
	// Resync re-examines every Deployment this often (0: 5 minutes).
	Resync time.Duration
	// RunGuard runs one guard; nil calls (*guard.Guard).Run. Tests replace it.
	RunGuard func(ctx context.Context, g *guard.Guard, name string) (*guard.Result, error)
	// OnSynced, when set, is called once the caches are synced.
	OnSynced func()
	// AllowURLs is the allowlist of the check and Prometheus URLs the
	// Deployments' settings may name (DefaultURLPolicy when zero).
	AllowURLs URLPolicy
	// JournalDir holds the local copies of incident journals and their
	// reports (journal.DefaultDir() when empty); every entry is also
	// mirrored to a ConfigMap in the Deployment's namespace.
	JournalDir string
	// LockDuration is the lease duration of the workload locks the
	// rollbacks hold (clusterlock.DefaultDuration when zero).
	LockDuration time.Duration
	// Channels receive the notifications of every incident (a rollback);
	// Secrets are their secret values, redacted everywhere.
	Channels []notify.Channel
	Secrets  []string
	// Releases rolls back a Deployment that a Helm release manages through
	// its release (Helm's library, in the rollback-helm program); nil
	// refuses such a rollback as `rollback app undo` does.
	Releases helmtarget.Releases

	process  string
	rec      *recorder
	deploys  appslisters.DeploymentLister
	rss      appslisters.ReplicaSetLister
	queue    workqueue.TypedRateLimitingInterface[string]
	sem      chan struct{}
	mu       sync.Mutex
	running  map[string]*task
	warned   map[string]string
	wg       sync.WaitGroup
	stopping bool
}

// task is one running guard (or rollback, or verification) of a Deployment.
type task struct {
	Running
	cancel context.CancelFunc
	done   chan struct{}
}

// Run watches Deployments and guards their rollouts until ctx ends; then it
// cancels every running guard (their state stays on the Deployments for the
// next leader) and returns once they have stopped.
func (c *Controller) Run(ctx context.Context) error {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.process = clusterlock.NewProcessID()
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = DefaultMaxConcurrent
	}
	if c.Resync <= 0 {
		c.Resync = 5 * time.Minute
	}
	c.rec = &recorder{cs: c.Client, clock: c.Clock, identity: c.Identity, log: c.Logger}
	c.sem = make(chan struct{}, c.MaxConcurrent)
	c.running = map[string]*task{}
	c.warned = map[string]string{}
	c.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())

	factory := informers.NewSharedInformerFactoryWithOptions(c.Client, c.Resync, informers.WithNamespace(c.Namespace))
	dInf := factory.Apps().V1().Deployments()
	rsInf := factory.Apps().V1().ReplicaSets()
	c.deploys, c.rss = dInf.Lister(), rsInf.Lister()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	if _, err := dInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: enqueue,
	}); err != nil {
		return fmt.Errorf("watch deployments: %w", err)
	}
	enqueueOwner := func(obj any) {
		rs, ok := obj.(*appsv1.ReplicaSet)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.Kind == "Deployment" {
			c.queue.Add(rs.Namespace + "/" + ref.Name)
		}
	}
	if _, err := rsInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueueOwner, UpdateFunc: func(_, obj any) { enqueueOwner(obj) },
	}); err != nil {
		return fmt.Errorf("watch replicasets: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			c.queue.ShutDown()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch %v: caches did not sync", typ)
		}
	}
	scope := "all namespaces"
	if c.Namespace != "" {
		scope = "namespace " + c.Namespace
	}
	c.rec.logf("guarding deployments annotated %s=%s in %s as %s", AnnotationGuard, EnabledValue, scope, c.Identity)
	if c.OnSynced != nil {
		c.OnSynced()
	}
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	var workers sync.WaitGroup
	for i := 0; i < 2; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c.next(ctx) {
			}
		}()
	}
	workers.Wait()
	c.mu.Lock()
	c.stopping = true
	for _, t := range c.running {
		t.cancel()
	}
	c.mu.Unlock()
	c.wg.Wait()
	c.rec.logf("stopped guarding; running guards were interrupted and resume with the next leader")
	return nil
}

// next processes one queued Deployment; false when the queue shut down.
func (c *Controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.reconcile(ctx, key); err != nil {
		if ctx.Err() == nil {
			c.rec.logf("%s: %v (retrying)", key, err)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// reconcile decides and acts for one Deployment.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	d, err := c.deploys.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.stop(key, "the deployment was deleted")
		return nil
	}
	if err != nil {
		return err
	}
	d, dec, obs, err := c.decide(ctx, d, key, false)
	if err != nil || dec.Action == ActNothing || dec.Action == ActWait {
		return err
	}
	if dec.Action != ActStop {
		// The cache may lag behind the state this replica just wrote:
		// decide again on a fresh read before acting.
		fresh, err := c.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			c.stop(key, "the deployment was deleted")
			return nil
		}
		if err != nil {
			return fmt.Errorf("get deployment %s: %w", key, err)
		}
		if d, dec, obs, err = c.decide(ctx, fresh, key, true); err != nil || dec.Action == ActNothing || dec.Action == ActWait {
			return err
		}
	}
	if dec.Action == ActStop && obs.Running == nil {
		return nil
	}
	if dec.Cancel {
		c.stop(key, "a newer rollout supersedes it: "+dec.Reason)
	}
	if dec.Action == ActStop {
		return nil
	}
	settings, err := c.settings(ctx, d)
	if err != nil {
		c.warnOnce(ctx, d, ReasonInvalidSettings, err.Error()+"; the rollout is NOT guarded until the settings are fixed")
		return nil
	}
	c.clearWarning(key, ReasonInvalidSettings)
	return c.start(ctx, d, *obs.Current, obs.State, settings, dec)
}

// decide observes d and runs the state machine.
func (c *Controller) decide(ctx context.Context, d *appsv1.Deployment, key string, warn bool) (*appsv1.Deployment, Decision, Observation, error) {
	obs := Observation{Enabled: d.Annotations[AnnotationGuard] == EnabledValue}
	c.mu.Lock()
	if t := c.running[key]; t != nil {
		r := t.Running
		obs.Running = &r
	}
	c.mu.Unlock()
	if !obs.Enabled {
		return d, Decide(obs), obs, nil
	}
	cur, _, err := c.current(d)
	if err != nil {
		return d, Decision{}, obs, err
	}
	obs.Current = cur
	st, err := ReadState(d)
	if err != nil && warn {
		c.warnOnce(ctx, d, ReasonInvalidState, err.Error()+"; the controller treats the revision as not guarded yet")
	}
	obs.State = st
	return d, Decide(obs), obs, nil
}

// current finds the ReplicaSet of d's current template once the Deployment
// controller observed d; nil when it has not yet.
func (c *Controller) current(d *appsv1.Deployment) (*Current, *appsv1.ReplicaSet, error) {
	if d.Status.ObservedGeneration < d.Generation || d.Spec.Selector == nil {
		return nil, nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("selector of deployment %s: %w", d.Name, err)
	}
	list, err := c.rss.ReplicaSets(d.Namespace).List(sel)
	if err != nil {
		return nil, nil, fmt.Errorf("list replicasets of deployment %s: %w", d.Name, err)
	}
	return currentOf(d, list)
}

// currentOf picks the ReplicaSet of d's template among list.
func currentOf(d *appsv1.Deployment, list []*appsv1.ReplicaSet) (*Current, *appsv1.ReplicaSet, error) {
	for _, rs := range list {
		if !metav1.IsControlledBy(rs, d) || !sameTemplate(rs, d) {
			continue
		}
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		var rev int64
		fmt.Sscan(rs.Annotations["deployment.kubernetes.io/revision"], &rev)
		if hash == "" || rev == 0 {
			return nil, nil, nil
		}
		return &Current{Hash: hash, Revision: rev, KnownGood: knownGood(rs), Created: rs.CreationTimestamp.Time}, rs, nil
	}
	return nil, nil, nil
}

// knownGood reports whether rs carries a valid known-good stamp.
func knownGood(rs *appsv1.ReplicaSet) bool {
	a := rs.Annotations
	if a[rollout.AnnotationKnownGoodHash] != rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, a[rollout.AnnotationKnownGoodAt])
	return err == nil
}

// settings reads the Deployment's guard settings and its ConfigMap.
func (c *Controller) settings(ctx context.Context, d *appsv1.Deployment) (Settings, error) {
	var data map[string]string
	if name := d.Annotations[AnnotationConfig]; name != "" {
		cm, err := c.Client.CoreV1().ConfigMaps(d.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return Settings{}, fmt.Errorf("guard settings: get configmap %s named by %s: %w", name, AnnotationConfig, err)
		}
		data = cm.Data
		if data == nil {
			data = map[string]string{}
		}
	}
	return ParseSettings(d.Annotations, data, c.AllowURLs)
}

// warnOnce records a Warning Event unless the same one was recorded last.
func (c *Controller) warnOnce(ctx context.Context, d *appsv1.Deployment, reason, msg string) {
	key := d.Namespace + "/" + d.Name + "|" + reason
	c.mu.Lock()
	same := c.warned[key] == msg
	c.warned[key] = msg
	c.mu.Unlock()
	if !same {
		c.rec.event(ctx, d, "Warning", reason, "%s", msg)
	}
}

func (c *Controller) clearWarning(key, reason string) {
	c.mu.Lock()
	delete(c.warned, key+"|"+reason)
	c.mu.Unlock()
}

// stop cancels the running guard of key, if any, and waits for it.
func (c *Controller) stop(key, why string) {
	c.mu.Lock()
	t := c.running[key]
	c.mu.Unlock()
	if t == nil {
		return
	}
	c.rec.logf("%s: %s: stopping the guard of revision %d (%s)", key, ReasonGuardCancelled, t.Revision, why)
	t.cancel()
	<-t.done
}

// sameTemplate reports whether rs runs d's pod template (ignoring the
// pod-template-hash label the Deployment controller adds).
func sameTemplate(rs *appsv1.ReplicaSet, d *appsv1.Deployment) bool {
	a, b := rs.Spec.Template.DeepCopy(), d.Spec.Template.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return apiequality.Semantic.DeepEqual(a, b)
}
