package sandbox

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// simulator stands in for the scheduler and the kubelets: it keeps the
// nodes Ready and serves their kubelet API (container logs), binds
// unscheduled pods round-robin to the nodes that fit them, drives each
// pod's status and logs by its containers' modes, and deletes terminating
// pods.
type simulator struct {
	client     kubernetes.Interface
	readyDelay time.Duration
	next       atomic.Uint64

	pods       corev1listers.PodLister
	nodes      corev1listers.NodeLister
	claims     corev1listers.PersistentVolumeClaimLister
	services   corev1listers.ServiceLister
	configMaps corev1listers.ConfigMapLister
	secrets    corev1listers.SecretLister
	queue      workqueue.TypedRateLimitingInterface[string]

	mu   sync.Mutex
	sims map[types.UID]*podSim
}

const simWorkers = 4

// unschedulableRetry is how often a pod that fits no node is looked at again.
const unschedulableRetry = 250 * time.Millisecond

func startSimulator(ctx context.Context, wg *sync.WaitGroup, cs kubernetes.Interface, nodes []string, readyDelay time.Duration, pki *kubeletPKI) (*simulator, error) {
	s := &simulator{
		client:     cs,
		readyDelay: readyDelay,
		sims:       map[types.UID]*podSim{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](10*time.Millisecond, 2*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sandbox-pods"}),
	}
	// Asking for a lister registers its informer with the factory.
	factory := informers.NewSharedInformerFactory(cs, 0)
	podInformer := factory.Core().V1().Pods()
	s.pods = podInformer.Lister()
	s.nodes = factory.Core().V1().Nodes().Lister()
	s.claims = factory.Core().V1().PersistentVolumeClaims().Lister()
	s.services = factory.Core().V1().Services().Lister()
	s.configMaps = factory.Core().V1().ConfigMaps().Lister()
	s.secrets = factory.Core().V1().Secrets().Lister()

	for _, name := range nodes {
		port, err := startKubelet(ctx, wg, name, s, pki)
		if err != nil {
			return nil, err
		}
		if err := ensureNode(ctx, s, name, port); err != nil {
			return nil, err
		}
	}

	if err := startProvisioner(ctx, wg, cs, factory); err != nil {
		return nil, err
	}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			s.queue.Add(key)
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				s.forget(pod.UID)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("pod simulator: %w", err)
	}
	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("pod simulator: %v informer did not sync", typ)
		}
	}
	for range simWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s.processNext(ctx) {
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		s.queue.ShutDown()
		factory.Shutdown()
	}()
	return s, nil
}

// podSim returns the simulator's memory of pod uid, made on first use.
func (s *simulator) podSim(uid types.UID) *podSim {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.sims[uid]
	if ps == nil {
		ps = &podSim{uid: string(uid)}
		s.sims[uid] = ps
	}
	return ps
}

// forget drops a deleted pod, ending the logs its followers read.
func (s *simulator) forget(uid types.UID) {
	s.mu.Lock()
	ps := s.sims[uid]
	delete(s.sims, uid)
	s.mu.Unlock()
	if ps == nil {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, l := range ps.logs {
		l.close()
	}
}

// runLog returns the log of the run with containerID of a container of
// pod uid, or nil when the simulator does not know it.
func (s *simulator) runLog(uid types.UID, containerID string) *containerLog {
	s.mu.Lock()
	ps := s.sims[uid]
	s.mu.Unlock()
	if ps == nil {
		return nil
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.logs[containerID]
}

func (s *simulator) processNext(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	after, err := s.sync(ctx, key)
	switch {
	case err != nil && ctx.Err() == nil:
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			klog.V(2).InfoS("pod simulator: retrying", "pod", key, "err", err)
		}
		s.queue.AddRateLimited(key)
	case err == nil:
		s.queue.Forget(key)
		if after > 0 {
			s.queue.AddAfter(key, after)
		}
	}
	return true
}

// sync moves one pod along and returns when to look at it again.
func (s *simulator) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if pod.DeletionTimestamp != nil {
		if wait := s.podSim(pod.UID).terminate(pod, time.Now()); wait > 0 {
			return wait, nil
		}
		zero := int64(0)
		err := s.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero,
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return 0, nil
		}
		return 0, err
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, nil
	}
	if pod.Spec.NodeName == "" {
		nodes, err := s.nodes.List(labels.Everything())
		if err != nil {
			return 0, err
		}
		fit, why := fitNodes(pod, nodes, s.claims.PersistentVolumeClaims(ns).Get)
		if why != nil {
			return unschedulableRetry, s.markUnschedulable(ctx, pod, why.message)
		}
		node := fit[s.next.Add(1)%uint64(len(fit))]
		err = s.client.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: node},
		}, metav1.CreateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, err
	}

	ps := s.podSim(pod.UID)
	resolve := func(c corev1.Container) (Mode, error) { return containerMode(ns, c, s) }
	ps.mu.Lock()
	status, after := ps.step(pod, resolve, s.readyDelay, NodeIP, podIP(pod), time.Now())
	ps.mu.Unlock()
	if !statusChanged(pod.Status, status) {
		return after, nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	if _, err := s.client.CoreV1().Pods(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return 0, err
	}
	return after, nil
}

// markUnschedulable records, like the scheduler, why pod fits no node: its
// PodScheduled condition and a FailedScheduling Event, when the reason
// changes.
func (s *simulator) markUnschedulable(ctx context.Context, pod *corev1.Pod, message string) error {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message == message {
			return nil
		}
	}
	updated := pod.DeepCopy()
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: message, LastTransitionTime: metav1.Now()}
	replaced := false
	for i, c := range updated.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			updated.Status.Conditions[i], replaced = cond, true
		}
	}
	if !replaced {
		updated.Status.Conditions = append(updated.Status.Conditions, cond)
	}
	updated.Status.Phase = corev1.PodPending
	if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return err
	}
	now := metav1.Now()
	_, err := s.client.CoreV1().Events(pod.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason: "FailedScheduling", Message: message, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "default-scheduler"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "default-scheduler", ReportingInstance: "rollback-sandbox",
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
		klog.V(2).InfoS("pod simulator: FailedScheduling event", "pod", klog.KObj(pod), "err", err)
	}
	return nil
}

func podIP(pod *corev1.Pod) string {
	h := fnv.New32a()
	h.Write([]byte(pod.UID))
	v := h.Sum32()
	return fmt.Sprintf("10.244.%d.%d", (v>>8)%250, v%250+2)
}

// configMap implements configSource.
func (s *simulator) configMap(namespace, name string) (map[string]string, bool) {
	cm, err := s.configMaps.ConfigMaps(namespace).Get(name)
	if err != nil {
		return nil, false
	}
	return cm.Data, true
}

// secret implements configSource.
func (s *simulator) secret(namespace, name string) (map[string][]byte, bool) {
	sec, err := s.secrets.Secrets(namespace).Get(name)
	if err != nil {
		return nil, false
	}
	return sec.Data, true
}

// backend is a ready pod an HTTP endpoint can route to.
type backend struct {
	pod     string
	image   string
	version string
	http500 bool
	log     *containerLog // the current run's log of its first container
}

// backends returns the ready pods in namespace matching selector.
func (s *simulator) backends(namespace string, selector labels.Selector) ([]backend, error) {
	pods, err := s.pods.Pods(namespace).List(selector)
	if err != nil {
		return nil, err
	}
	var out []backend
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || !podReady(pod) || len(pod.Spec.Containers) == 0 {
			continue
		}
		c := pod.Spec.Containers[0]
		b := backend{pod: pod.Name, image: c.Image, version: ImageTag(c.Image)}
		s.mu.Lock()
		ps := s.sims[pod.UID]
		s.mu.Unlock()
		if ps != nil {
			ps.mu.Lock()
			if cs := ps.containers[c.Name]; cs != nil {
				b.http500 = cs.mode.Kind == KindHTTP500
				b.log = cs.log
			}
			ps.mu.Unlock()
		}
		out = append(out, b)
	}
	return out, nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var errNoBackends = errors.New("no ready pods match the service's selector")
