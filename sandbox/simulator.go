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
	"k8s.io/apimachinery/pkg/api/resource"
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

// simulator stands in for the scheduler and the kubelets: it keeps N nodes
// Ready, binds unscheduled pods to them round-robin, drives each pod's
// status by its containers' modes, and deletes terminating pods.
type simulator struct {
	client     kubernetes.Interface
	nodes      []string
	readyDelay time.Duration
	next       atomic.Uint64

	pods       corev1listers.PodLister
	services   corev1listers.ServiceLister
	configMaps corev1listers.ConfigMapLister
	secrets    corev1listers.SecretLister
	queue      workqueue.TypedRateLimitingInterface[string]

	mu   sync.Mutex
	sims map[types.UID]*podSim
}

const simWorkers = 4

func startSimulator(ctx context.Context, wg *sync.WaitGroup, cs kubernetes.Interface, nodes int, readyDelay time.Duration) (*simulator, error) {
	s := &simulator{
		client:     cs,
		readyDelay: readyDelay,
		sims:       map[types.UID]*podSim{},
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](10*time.Millisecond, 2*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "sandbox-pods"}),
	}
	for i := 1; i <= nodes; i++ {
		name := fmt.Sprintf("sandbox-node-%d", i)
		if err := s.ensureNode(ctx, name, i); err != nil {
			return nil, err
		}
		s.nodes = append(s.nodes, name)
	}

	factory := informers.NewSharedInformerFactory(cs, 0)
	podInformer := factory.Core().V1().Pods()
	s.pods = podInformer.Lister()
	s.services = factory.Core().V1().Services().Lister()
	s.configMaps = factory.Core().V1().ConfigMaps().Lister()
	s.secrets = factory.Core().V1().Secrets().Lister()
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
				s.mu.Lock()
				delete(s.sims, pod.UID)
				s.mu.Unlock()
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("pod simulator: %w", err)
	}
	factory.Core().V1().Services().Informer()
	factory.Core().V1().ConfigMaps().Informer()
	factory.Core().V1().Secrets().Informer()
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

// ensureNode creates (or refreshes) a Ready node.
func (s *simulator) ensureNode(ctx context.Context, name string, index int) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "sandbox": "true",
	}}}
	created, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = s.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: nodeIP(index)},
			{Type: corev1.NodeHostName, Address: name},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.37.2-sandbox", OperatingSystem: "linux", Architecture: "amd64",
			ContainerRuntimeVersion: "sandbox://1.0", OSImage: "rollback-sandbox",
		},
	}
	for _, c := range []struct {
		t      corev1.NodeConditionType
		status corev1.ConditionStatus
		reason string
	}{
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"},
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"},
	} {
		created.Status.Conditions = append(created.Status.Conditions, corev1.NodeCondition{
			Type: c.t, Status: c.status, Reason: c.reason, LastHeartbeatTime: now, LastTransitionTime: now,
		})
	}
	if _, err := s.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("mark node %s Ready: %w", name, err)
	}
	return nil
}

func nodeIP(index int) string { return fmt.Sprintf("10.1.0.%d", index) }

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
		node := s.nodes[s.next.Add(1)%uint64(len(s.nodes))]
		err := s.client.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: node},
		}, metav1.CreateOptions{})
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return 0, nil
		}
		return 0, err
	}

	s.mu.Lock()
	ps := s.sims[pod.UID]
	if ps == nil {
		ps = &podSim{uid: string(pod.UID)}
		s.sims[pod.UID] = ps
	}
	s.mu.Unlock()

	resolve := func(c corev1.Container) (Mode, error) { return containerMode(ns, c, s) }
	status, after := ps.step(pod, resolve, s.readyDelay, s.hostIP(pod.Spec.NodeName), podIP(pod), time.Now())
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

func (s *simulator) hostIP(node string) string {
	for i, n := range s.nodes {
		if n == node {
			return nodeIP(i + 1)
		}
	}
	return nodeIP(0)
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
		if ps := s.sims[pod.UID]; ps != nil {
			if cs := ps.containers[c.Name]; cs != nil {
				b.http500 = cs.mode.Kind == KindHTTP500
			}
		}
		s.mu.Unlock()
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
