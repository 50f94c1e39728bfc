package guardcontroller

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/vibestack/rollback/pkg/rollout"
)

// watch registers the informers of kinds: each workload kind queues its
// objects; ReplicaSets queue their Deployment and ControllerRevisions their
// StatefulSet or DaemonSet, so that a new revision is seen when it appears.
func (c *Controller) watch(factory informers.SharedInformerFactory, kinds []rollout.Kind) error {
	apps := factory.Apps().V1()
	want := map[rollout.Kind]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	queue := func(k rollout.Kind) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if m, err := objectMeta(obj); err == nil {
				c.queue.Add(keyOf(rollout.Workload{Kind: k, Namespace: m.GetNamespace(), Name: m.GetName()}))
			}
		}
		return cache.ResourceEventHandlerFuncs{AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }, DeleteFunc: add}
	}
	owner := func(obj any) {
		m, err := objectMeta(obj)
		if err != nil {
			return
		}
		ref := metav1.GetControllerOf(m)
		if ref == nil {
			return
		}
		if k, err := rollout.ParseKind(ref.Kind); err == nil && want[k] {
			c.queue.Add(keyOf(rollout.Workload{Kind: k, Namespace: m.GetNamespace(), Name: ref.Name}))
		}
	}
	owners := cache.ResourceEventHandlerFuncs{AddFunc: owner, UpdateFunc: func(_, obj any) { owner(obj) }}
	register := func(what string, inf cache.SharedIndexInformer, h cache.ResourceEventHandler) error {
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watch %s: %w", what, err)
		}
		return nil
	}
	if want[rollout.KindDeployment] {
		c.deploys, c.replicaSets = apps.Deployments().Lister(), apps.ReplicaSets().Lister()
		if err := register("deployments", apps.Deployments().Informer(), queue(rollout.KindDeployment)); err != nil {
			return err
		}
		if err := register("replicasets", apps.ReplicaSets().Informer(), owners); err != nil {
			return err
		}
	}
	if want[rollout.KindStatefulSet] {
		c.statefulSets = apps.StatefulSets().Lister()
		if err := register("statefulsets", apps.StatefulSets().Informer(), queue(rollout.KindStatefulSet)); err != nil {
			return err
		}
	}
	if want[rollout.KindDaemonSet] {
		c.daemonSets = apps.DaemonSets().Lister()
		if err := register("daemonsets", apps.DaemonSets().Informer(), queue(rollout.KindDaemonSet)); err != nil {
			return err
		}
	}
	if want[rollout.KindStatefulSet] || want[rollout.KindDaemonSet] {
		c.revisions = apps.ControllerRevisions().Lister()
		if err := register("controllerrevisions", apps.ControllerRevisions().Informer(), owners); err != nil {
			return err
		}
	}
	return nil
}

// objectMeta returns the object metadata of a cached object.
func objectMeta(obj any) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", obj)
	}
	return m, nil
}

// dropManagedFields is the informers' transform: the caches keep no
// managedFields, which nothing here reads.
func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// kindList names kinds for the start-up log ("deployments, statefulsets").
func kindList(kinds []rollout.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Resource()
	}
	return strings.Join(names, ", ")
}
