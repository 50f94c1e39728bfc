package command

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/vibestack/rollback/internal/iostreams"
	"github.com/vibestack/rollback/internal/kubeflags"
	"github.com/vibestack/rollback/pkg/rollout"
)

// t0 is the fake clock's time in the command tests.
var t0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// fakeClients are Clients over one fake clientset in namespace "shop".
type fakeClients struct{ cs kubernetes.Interface }

// ForContext returns the fake clientset and namespace (shop unless given).
func (f fakeClients) ForContext(_, namespace string) (kubernetes.Interface, string, error) {
	if namespace == "" {
		namespace = "shop"
	}
	return f.cs, namespace, nil
}

// runFake runs the command line args against a fake clientset holding objs
// and returns the exit code, stdout and stderr.
func runFake(t *testing.T, objs []runtime.Object, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv("KUBE_FEATURE_WatchListClient", "false") // the fake cannot stream a watch list
	t.Setenv("ROLLBACK_JOURNAL_DIR", t.TempDir())
	io, _, out, errOut := iostreams.Test()
	kube := kubeflags.NewConfigFlags()
	f := &Factory{IO: io, Kube: kube, Clients: fakeClients{cs: fake.NewClientset(objs...)}, Clock: clocktesting.NewFakeClock(t0),
		Getenv: func(string) string { return "" }, Process: "p-test"}
	code := ExecuteWith(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// webRevisions returns Deployment web (template v3: crash) with revisions
// 1 (v1, known-good), 2 (v2, failed) and 3 (crash, current).
func webRevisions() []runtime.Object {
	labels := map[string]string{"app": "web"}
	tmpl := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "d-uid", Generation: 3,
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "3"}},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl("shop/web:crash")},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2},
	}
	objs := []runtime.Object{d}
	for i, img := range []string{"shop/web:v1", "shop/web:v2", "shop/web:crash"} {
		n := i + 1
		hash := fmt.Sprintf("h%d", n)
		t := tmpl(img)
		t.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Namespace: "shop", UID: types.UID("rs-" + hash), Labels: t.Labels,
				CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(n-4) * time.Hour)),
				Annotations:       map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(n), "kubernetes.io/change-cause": "deploy " + img},
				OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-uid", Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Template: t},
		}
		switch n {
		case 1:
			rs.Annotations[rollout.AnnotationKnownGoodAt] = t0.Add(-3 * time.Hour).Format(time.RFC3339Nano)
			rs.Annotations[rollout.AnnotationKnownGoodHash] = hash
			rs.Annotations[rollout.AnnotationKnownGoodBy] = "status"
		case 2:
			rs.Annotations[rollout.AnnotationFailedAt] = t0.Add(-2 * time.Hour).Format(time.RFC3339Nano)
			rs.Annotations[rollout.AnnotationFailedHash] = hash
			rs.Annotations[rollout.AnnotationFailedReason] = "pod web-h2-x container app: CrashLoopBackOff"
		case 3:
			rs.Status = appsv1.ReplicaSetStatus{Replicas: 2}
		}
		objs = append(objs, rs)
	}
	return objs
}

// heldLease is the Lease of the lock of name, held by alice for INC-7.
func heldLease(lease string) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: lease, Namespace: "shop", Annotations: map[string]string{
			"rollback.vibestack.dev/holder": "alice@laptop", "rollback.vibestack.dev/process": "3fa9c2d1",
			"rollback.vibestack.dev/incident": "INC-7", "rollback.vibestack.dev/host": "laptop"}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("alice@laptop/3fa9c2d1"), LeaseDurationSeconds: ptr.To(int32(30)),
			AcquireTime: ptr.To(metav1.NewMicroTime(t0.Add(-time.Minute))), RenewTime: ptr.To(metav1.NewMicroTime(t0.Add(-5 * time.Second)))},
	}
}

// setRevisions returns the StatefulSet db or DaemonSet agent (kind), label
// tier=shop, template at revision 3 (crash) or, when undone, back at 1,
// with ControllerRevisions 1 (v1, known-good), 2 (v2, failed) and 3
// (crash), and three pods: two at revision 1 and the last one
// crash-looping at revision 3 (a StatefulSet stuck after `kubectl rollout
// undo`, when undone). onDelete selects the OnDelete strategy.
func setRevisions(kind string, undone, onDelete bool) []runtime.Object {
	name := "db"
	if kind == "DaemonSet" {
		name = "agent"
	}
	labels := map[string]string{"app": name}
	tmpl := func(image string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}
	}
	image := "shop/" + name + ":crash"
	if undone {
		image = "shop/" + name + ":v1"
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID(name + "-uid"), Generation: 4, Labels: map[string]string{"tier": "shop"}}
	var owner runtime.Object
	switch kind {
	case "StatefulSet":
		s := &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl(image),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
			Status: appsv1.StatefulSetStatus{ObservedGeneration: 4, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}}
		if onDelete {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
		}
		owner = s
	default:
		d := &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl(image),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
			Status: appsv1.DaemonSetStatus{ObservedGeneration: 4, DesiredNumberScheduled: 3, NumberReady: 2, NumberAvailable: 2}}
		if onDelete {
			d.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		}
		owner = d
	}
	ref := metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: meta.UID, Controller: ptr.To(true)}
	objs := []runtime.Object{owner}
	var crs []*appsv1.ControllerRevision
	for i, img := range []string{"shop/" + name + ":v1", "shop/" + name + ":v2", "shop/" + name + ":crash"} {
		n := i + 1
		hash := fmt.Sprintf("c%d", n)
		raw, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": tmpl(img), "$patch": "replace"}})
		// The labels each controller puts on its revisions.
		crLabels := map[string]string{"app": name, appsv1.ControllerRevisionHashLabelKey: hash}
		if kind == "StatefulSet" {
			crLabels = map[string]string{"app": name, "controller.kubernetes.io/hash": hash}
		}
		cr := &appsv1.ControllerRevision{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-" + hash, Namespace: "shop", UID: types.UID("cr-" + hash),
				Labels:            crLabels,
				CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(n-4) * time.Hour)),
				Annotations:       map[string]string{"kubernetes.io/change-cause": "deploy " + img},
				OwnerReferences:   []metav1.OwnerReference{ref}},
			Data: runtime.RawExtension{Raw: raw}, Revision: int64(n),
		}
		switch n {
		case 1:
			cr.Annotations[rollout.AnnotationKnownGoodAt] = t0.Add(-3 * time.Hour).Format(time.RFC3339Nano)
			cr.Annotations[rollout.AnnotationKnownGoodHash] = hash
			cr.Annotations[rollout.AnnotationKnownGoodBy] = "status"
		case 2:
			cr.Annotations[rollout.AnnotationFailedAt] = t0.Add(-2 * time.Hour).Format(time.RFC3339Nano)
			cr.Annotations[rollout.AnnotationFailedHash] = hash
			cr.Annotations[rollout.AnnotationFailedReason] = "pod " + name + "-2 container app: CrashLoopBackOff"
		}
		crs = append(crs, cr)
		objs = append(objs, cr)
	}
	for i := 0; i < 3; i++ {
		cr := crs[0]
		if i == 2 {
			cr = crs[2]
		}
		rev := cr.Labels[appsv1.ControllerRevisionHashLabelKey]
		if kind == "StatefulSet" {
			rev = cr.Name
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: "shop", UID: types.UID(fmt.Sprintf("pod-%d", i)),
			Labels: map[string]string{"app": name, appsv1.ControllerRevisionHashLabelKey: rev}, OwnerReferences: []metav1.OwnerReference{ref}},
			Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
		if i == 2 {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
			p.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "app", RestartCount: 4,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5s restarting failed container"}}}
		}
		objs = append(objs, p)
	}
	return objs
}

// labelled returns objs with label tier=shop on the Deployment among them.
func labelled(objs []runtime.Object) []runtime.Object {
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			d.Labels = map[string]string{"tier": "shop"}
		}
	}
	return objs
}
