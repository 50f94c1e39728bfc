package guardcontroller

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/notify"
	"github.com/vibestack/rollback/pkg/rollout"
)

// DefaultMaxConcurrent is how many workloads are guarded at once by default.
const DefaultMaxConcurrent = 20

// Controller guards the rollouts of opted-in Deployments, StatefulSets and
// DaemonSets. Run it only while holding the leadership (RunWithLeaderElection
// does that).
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
	// Resync re-examines every workload this often (0: 5 minutes).
	Resync time.Duration
	// RunGuard runs one guard; nil calls (*guard.Guard).Run. Tests replace it.
	RunGuard func(ctx context.Context, g *guard.Guard, name string) (*guard.Result, error)
	// OnSynced, when set, is called once the caches are synced.
	OnSynced func()
	// AllowURLs is the allowlist of the check and Prometheus URLs the
	// workloads' settings may name (DefaultURLPolicy when zero).
	AllowURLs URLPolicy
	// JournalDir holds the local copies of incident journals and their
	// reports (journal.DefaultDir() when empty); every entry is also
	// mirrored to a ConfigMap in the workload's namespace.
	JournalDir string
	// LockDuration is the lease duration of the workload locks the
	// rollbacks hold (clusterlock.DefaultDuration when zero).
	LockDuration time.Duration
	// Channels receive the notifications of every incident (a rollback);
	// Secrets are their secret values, redacted everywhere.
	Channels []notify.Channel
	Secrets  []string
	// Evidence bounds the evidence collected before each rollback
	// (evidence.DefaultLimits() when nil; a zero Budget collects none).
	Evidence *evidence.Limits
	// Releases rolls back a workload that a Helm release manages through
	// its release (Helm's library, in the rollback-helm program); nil
	// refuses such a rollback as `rollback app undo` does.
	Releases helmtarget.Releases

	// Kinds are the workload kinds watched and guarded (every kind of
	// rollout.Kinds when empty); the ServiceAccount needs list and watch
	// on each, and on what holds its revisions.
	Kinds []rollout.Kind

	process      string
	rec          *recorder
	deploys      appslisters.DeploymentLister
	statefulSets appslisters.StatefulSetLister
	daemonSets   appslisters.DaemonSetLister
	replicaSets  appslisters.ReplicaSetLister
	revisions    appslisters.ControllerRevisionLister
	queue        workqueue.TypedRateLimitingInterface[string]
	sem          chan struct{}
	mu           sync.Mutex
	running      map[string]*task
	warned       map[string]string
	wg           sync.WaitGroup
	stopping     bool
}

// task is one running guard (or rollback, or verification) of a workload.
type task struct {
	Running
	cancel context.CancelFunc
	done   chan struct{}
}

// Run watches the workloads of Kinds and guards their rollouts until ctx
// ends; then it cancels every running guard (their state stays on the
// workloads for the next leader) and returns once they have stopped.
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

	kinds := c.Kinds
	if len(kinds) == 0 {
		kinds = rollout.Kinds
	}
	factory := informers.NewSharedInformerFactoryWithOptions(c.Client, c.Resync, informers.WithNamespace(c.Namespace),
		informers.WithTransform(dropManagedFields))
	if err := c.watch(factory, kinds); err != nil {
		return err
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
	c.rec.logf("guarding %s annotated %s=%s in %s as %s", kindList(kinds), AnnotationGuard, EnabledValue, scope, c.Identity)
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

// next processes one queued workload; false when the queue shut down.
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

// reconcile decides and acts for one workload.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	w, ok := splitKey(key)
	if !ok {
		return nil
	}
	info, err := c.cached(w)
	if apierrors.IsNotFound(err) {
		c.stop(key, "the "+w.Kind.Lower()+" was deleted")
		return nil
	}
	if err != nil {
		return err
	}
	info, dec, obs, err := c.decide(ctx, info, key, false)
	if err != nil || dec.Action == ActNothing || dec.Action == ActWait {
		return err
	}
	if dec.Action != ActStop {
		// The cache may lag behind the state this replica just wrote:
		// decide again on a fresh read before acting.
		fresh, err := c.fresh(ctx, w)
		if apierrors.IsNotFound(err) {
			c.stop(key, "the "+w.Kind.Lower()+" was deleted")
			return nil
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", key, err)
		}
		if info, dec, obs, err = c.decide(ctx, fresh, key, true); err != nil || dec.Action == ActNothing || dec.Action == ActWait {
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
	settings, err := c.settings(ctx, info)
	if err != nil {
		c.warnOnce(ctx, info, ReasonInvalidSettings, err.Error()+"; the rollout is NOT guarded until the settings are fixed")
		return nil
	}
	c.clearWarning(key, ReasonInvalidSettings)
	return c.start(ctx, info, *obs.Current, obs.State, settings, dec)
}

// decide observes the workload and runs the state machine.
func (c *Controller) decide(ctx context.Context, info *rollout.WorkloadInfo, key string, warn bool) (*rollout.WorkloadInfo, Decision, Observation, error) {
	obs := Observation{Enabled: info.Annotations[AnnotationGuard] == EnabledValue}
	c.mu.Lock()
	if t := c.running[key]; t != nil {
		r := t.Running
		obs.Running = &r
	}
	c.mu.Unlock()
	if !obs.Enabled {
		return info, Decide(obs), obs, nil
	}
	cur, err := c.current(info)
	if err != nil {
		return info, Decision{}, obs, err
	}
	obs.Current = cur
	st, err := ReadState(info.Object)
	if err != nil && warn {
		c.warnOnce(ctx, info, ReasonInvalidState, err.Error()+"; the controller treats the revision as not guarded yet")
	}
	obs.State = st
	return info, Decide(obs), obs, nil
}

// settings reads the workload's guard settings and its ConfigMap.
func (c *Controller) settings(ctx context.Context, info *rollout.WorkloadInfo) (Settings, error) {
	var data map[string]string
	if name := info.Annotations[AnnotationConfig]; name != "" {
		cm, err := c.Client.CoreV1().ConfigMaps(info.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return Settings{}, fmt.Errorf("guard settings: get configmap %s named by %s: %w", name, AnnotationConfig, err)
		}
		data = cm.Data
		if data == nil {
			data = map[string]string{}
		}
	}
	return ParseSettings(info.Annotations, data, c.AllowURLs)
}

// warnOnce records a Warning Event unless the same one was recorded last.
func (c *Controller) warnOnce(ctx context.Context, info *rollout.WorkloadInfo, reason, msg string) {
	key := keyOf(info.Workload) + "|" + reason
	c.mu.Lock()
	same := c.warned[key] == msg
	c.warned[key] = msg
	c.mu.Unlock()
	if !same {
		c.rec.event(ctx, info, "Warning", reason, "%s", msg)
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
