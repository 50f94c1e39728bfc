package rollout

import (
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// statefulSet returns StatefulSet "db" in namespace "shop" (3 replicas,
// OrderedReady, RollingUpdate) running image, observed by its controller.
func statefulSet(image string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", UID: types.UID("sts-uid"), ResourceVersion: "200", Generation: 3,
			Annotations: map[string]string{"team": "data"}},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template(image),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
		},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, UpdatedReplicas: 3},
	}
}

// daemonSet returns DaemonSet "agent" in namespace "shop" running image on
// 3 nodes, observed by its controller.
func daemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "shop", UID: types.UID("ds-uid"), ResourceVersion: "300", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template:       template(image),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3, NumberAvailable: 3, UpdatedNumberScheduled: 3},
	}
}

// controllerRevision returns revision n of the set owner (its template at
// image, as the controller records it); stamp is "", "good", "failed" or
// "copied" (the set's annotations, stamps included, copied by the
// controller onto a revision of another template).
func controllerRevision(owner metav1.Object, kind string, n int, image, stamp string) *appsv1.ControllerRevision {
	hash := fmt.Sprintf("c%d", n)
	raw, err := json.Marshal(map[string]any{"spec": map[string]any{"template": template(image), "$patch": "replace"}})
	if err != nil {
		panic(err)
	}
	// The labels each controller puts on its revisions.
	labels := map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: hash}
	if kind == "StatefulSet" {
		labels = map[string]string{"app": "web", statefulSetHashLabel: hash}
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: owner.GetName() + "-" + hash, Namespace: "shop", UID: types.UID("cr-" + hash),
			Labels:            labels,
			CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(n) * time.Minute)),
			Annotations:       map[string]string{changeCauseAnnotation: "deploy " + image},
			OwnerReferences:   []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind(kind))},
		},
		Data:     runtime.RawExtension{Raw: raw},
		Revision: int64(n),
	}
	at := t0.Add(time.Duration(n)*time.Minute + 30*time.Second).Format(time.RFC3339Nano)
	switch stamp {
	case "good":
		cr.Annotations[AnnotationKnownGoodAt] = at
		cr.Annotations[AnnotationKnownGoodHash] = hash
		cr.Annotations[AnnotationKnownGoodBy] = "status"
	case "failed":
		cr.Annotations[AnnotationFailedAt] = at
		cr.Annotations[AnnotationFailedHash] = hash
		cr.Annotations[AnnotationFailedReason] = "pod db-2 container app: CrashLoopBackOff"
	case "copied":
		cr.Annotations[AnnotationKnownGoodAt] = at
		cr.Annotations[AnnotationKnownGoodHash] = "c1"
	}
	return cr
}

// setPod returns pod name of the set owner at revision cr, Ready or failing.
func setPod(owner metav1.Object, kind string, name string, cr *appsv1.ControllerRevision, ready bool, cs corev1.ContainerStatus) *corev1.Pod {
	rev := cr.Labels[appsv1.ControllerRevisionHashLabelKey]
	if kind == "StatefulSet" {
		rev = cr.Name
	}
	if rev == "" {
		panic("no revision label on " + cr.Name)
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID("pod-" + name), ResourceVersion: "1",
			Labels:          map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: rev},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind(kind))}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{cs}},
	}
	cs.Name = "app"
	p.Status.ContainerStatuses[0].Name = "app"
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
	return p
}

// crSources wraps ControllerRevisions as revision sources.
func crSources(crs ...*appsv1.ControllerRevision) []*revisionSource {
	out := make([]*revisionSource, len(crs))
	for i, cr := range crs {
		out[i] = controllerRevisionSource(cr)
	}
	return out
}

var (
	runningStatus = corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	crashStatus   = corev1.ContainerStatus{RestartCount: 3, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5s"}}}
)
