package rollout

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// object is one workload as read from the API server or a watch cache:
// exactly one of its fields is set. It is the per-kind adapter of the
// workload itself; revisionSource is the one of its revisions.
type object struct {
	d   *appsv1.Deployment
	sts *appsv1.StatefulSet
	ds  *appsv1.DaemonSet
}

// objectOf wraps a typed workload; false for anything else.
func objectOf(o any) (object, bool) {
	switch o := o.(type) {
	case *appsv1.Deployment:
		return object{d: o}, true
	case *appsv1.StatefulSet:
		return object{sts: o}, true
	case *appsv1.DaemonSet:
		return object{ds: o}, true
	}
	return object{}, false
}

func (o object) valid() bool { return o.d != nil || o.sts != nil || o.ds != nil }

func (o object) kind() Kind {
	switch {
	case o.sts != nil:
		return KindStatefulSet
	case o.ds != nil:
		return KindDaemonSet
	}
	return KindDeployment
}

func (o object) runtimeObject() runtime.Object {
	switch {
	case o.sts != nil:
		return o.sts
	case o.ds != nil:
		return o.ds
	}
	return o.d
}

func (o object) meta() *metav1.ObjectMeta {
	switch {
	case o.sts != nil:
		return &o.sts.ObjectMeta
	case o.ds != nil:
		return &o.ds.ObjectMeta
	}
	return &o.d.ObjectMeta
}

func (o object) workload() Workload {
	m := o.meta()
	return Workload{Kind: o.kind(), Namespace: m.Namespace, Name: m.Name}
}

func (o object) template() *corev1.PodTemplateSpec {
	switch {
	case o.sts != nil:
		return &o.sts.Spec.Template
	case o.ds != nil:
		return &o.ds.Spec.Template
	}
	return &o.d.Spec.Template
}

func (o object) labelSelector() *metav1.LabelSelector {
	switch {
	case o.sts != nil:
		return o.sts.Spec.Selector
	case o.ds != nil:
		return o.ds.Spec.Selector
	}
	return o.d.Spec.Selector
}

// selector returns the workload's pod selector as a label selector string.
func (o object) selector() string {
	sel := o.labelSelector()
	if sel == nil {
		return ""
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return ""
	}
	return s.String()
}

// observed reports whether the workload's controller has seen its
// current generation.
func (o object) observed() bool {
	m := o.meta()
	switch {
	case o.sts != nil:
		return o.sts.Status.ObservedGeneration >= m.Generation
	case o.ds != nil:
		return o.ds.Status.ObservedGeneration >= m.Generation
	}
	return o.d.Status.ObservedGeneration >= m.Generation
}

// paused reports whether a Deployment is paused (the other kinds cannot be).
func (o object) paused() bool { return o.d != nil && o.d.Spec.Paused }

// onDelete reports whether the controller replaces pods only when they
// are deleted (the OnDelete update strategy of StatefulSets and DaemonSets).
func (o object) onDelete() bool {
	switch {
	case o.sts != nil:
		return o.sts.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType
	case o.ds != nil:
		return o.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType
	}
	return false
}

// orderedReady reports whether a StatefulSet starts and replaces its pods
// one at a time, each after the one before is Ready (the default policy).
func (o object) orderedReady() bool {
	return o.sts != nil && o.sts.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
}

// partition returns a StatefulSet's RollingUpdate partition: the ordinals
// below it keep their revision.
func (o object) partition() int32 {
	if o.sts == nil || o.onDelete() {
		return 0
	}
	if ru := o.sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return *ru.Partition
	}
	return 0
}

// desired is the number of pods the workload should run: its replicas, or
// for a DaemonSet the nodes its controller schedules it on (taints,
// selectors and affinity leave the others out).
func (o object) desired() int32 {
	switch {
	case o.sts != nil:
		return deref(o.sts.Spec.Replicas, 1)
	case o.ds != nil:
		return o.ds.Status.DesiredNumberScheduled
	}
	return deref(o.d.Spec.Replicas, 1)
}

// get reads workload w (namespace from the clients).
func get(ctx context.Context, c Clients, w Workload) (object, error) {
	var o object
	var err error
	switch w.Kind {
	case KindStatefulSet:
		o.sts, err = c.StatefulSets.Get(ctx, w.Name, metav1.GetOptions{})
	case KindDaemonSet:
		o.ds, err = c.DaemonSets.Get(ctx, w.Name, metav1.GetOptions{})
	default:
		o.d, err = c.Deployments.Get(ctx, w.Name, metav1.GetOptions{})
	}
	if err != nil {
		return object{}, getError(err, w.Kind.Lower(), w.Name)
	}
	return o, nil
}

// getWorkload parses workload (kubectl's resource syntax) and reads it.
func getWorkload(ctx context.Context, c Clients, workload string) (object, error) {
	w, err := ParseWorkload(workload)
	if err != nil {
		return object{}, err
	}
	if err := c.supports(w.Kind); err != nil {
		return object{}, err
	}
	return get(ctx, c, w)
}

// supports refuses a kind the clients cannot reach (a Clients value built
// by hand for Deployments only).
func (c Clients) supports(k Kind) error {
	switch {
	case k == KindDeployment && (c.Deployments == nil || c.ReplicaSets == nil),
		k == KindStatefulSet && (c.StatefulSets == nil || c.ControllerRevisions == nil),
		k == KindDaemonSet && (c.DaemonSets == nil || c.ControllerRevisions == nil):
		return fmt.Errorf("no client for %s in this context", k.Resource())
	}
	return nil
}

// revisionSources reads the objects that hold o's revisions: the
// ReplicaSets or ControllerRevisions it controls.
func revisionSources(ctx context.Context, c Clients, o object) ([]*revisionSource, error) {
	w, sel := o.workload(), o.selector()
	var out []*revisionSource
	if o.kind() == KindDeployment {
		rss, err := c.ReplicaSets.List(ctx, c.listOptions(sel))
		if err != nil {
			return nil, fmt.Errorf("list replicasets of %s: %w", w.Describe(), err)
		}
		for i := range rss.Items {
			out = append(out, replicaSetSource(&rss.Items[i]))
		}
		return controlled(o, out), nil
	}
	crs, err := c.ControllerRevisions.List(ctx, c.listOptions(sel))
	if err != nil {
		return nil, fmt.Errorf("list controllerrevisions of %s: %w", w.Describe(), err)
	}
	for i := range crs.Items {
		out = append(out, controllerRevisionSource(&crs.Items[i]))
	}
	return controlled(o, out), nil
}

// controlled keeps the sources o controls.
func controlled(o object, srcs []*revisionSource) []*revisionSource {
	out := srcs[:0]
	for _, s := range srcs {
		if metav1.IsControlledBy(s.meta(), o.meta()) {
			out = append(out, s)
		}
	}
	return out
}

// listPods lists the pods of o's selector (the pods of every revision).
func listPods(ctx context.Context, c Clients, o object) ([]*corev1.Pod, error) {
	list, err := c.Pods.List(ctx, c.listOptions(o.selector()))
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", o.workload().Describe(), err)
	}
	out := make([]*corev1.Pod, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}

// WorkloadInfo is what other packages read of a workload without its
// kind's type: guard's bake, preflight.
type WorkloadInfo struct {
	Workload
	UID         types.UID
	Generation  int64
	Labels      map[string]string
	Annotations map[string]string
	// Template is the workload's pod template.
	Template *corev1.PodTemplateSpec
	// Selector is its pod selector as a label selector string.
	Selector string
	// Desired is how many pods it should run (replicas; a DaemonSet's nodes).
	Desired int32
	// Observed is true once its controller has observed its generation.
	Observed bool
	// Object is the typed object (*appsv1.Deployment, *appsv1.StatefulSet
	// or *appsv1.DaemonSet).
	Object metav1.Object
}

// GetWorkload reads workload (kubectl's resource syntax); a workload that
// does not exist is a refusal (exit code 2).
func GetWorkload(ctx context.Context, c Clients, workload string) (*WorkloadInfo, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, err
	}
	return o.info(), nil
}

func (o object) info() *WorkloadInfo {
	m := o.meta()
	return &WorkloadInfo{Workload: o.workload(), UID: m.UID, Generation: m.Generation, Labels: m.Labels, Annotations: m.Annotations,
		Template: o.template(), Selector: o.selector(), Desired: o.desired(), Observed: o.observed(), Object: o.runtimeObject().(metav1.Object)}
}

// InfoOf describes a typed workload (*appsv1.Deployment, *appsv1.StatefulSet
// or *appsv1.DaemonSet, from a watch cache say); false for anything else.
func InfoOf(obj any) (*WorkloadInfo, bool) {
	o, ok := objectOf(obj)
	if !ok {
		return nil, false
	}
	return o.info(), true
}

// PatchWorkload patches workload w (namespace from the clients) and returns
// it as written.
func PatchWorkload(ctx context.Context, c Clients, w Workload, pt types.PatchType, data []byte) (*WorkloadInfo, error) {
	return PatchWorkloadAs(ctx, c, w, pt, data, FieldManager)
}

// PatchWorkloadAs is PatchWorkload with the field manager named.
func PatchWorkloadAs(ctx context.Context, c Clients, w Workload, pt types.PatchType, data []byte, fieldManager string) (*WorkloadInfo, error) {
	opts := metav1.PatchOptions{FieldManager: fieldManager}
	var o object
	var err error
	switch w.Kind {
	case KindStatefulSet:
		o.sts, err = c.StatefulSets.Patch(ctx, w.Name, pt, data, opts)
	case KindDaemonSet:
		o.ds, err = c.DaemonSets.Patch(ctx, w.Name, pt, data, opts)
	default:
		o.d, err = c.Deployments.Patch(ctx, w.Name, pt, data, opts)
	}
	if err != nil {
		return nil, err
	}
	return o.info(), nil
}
