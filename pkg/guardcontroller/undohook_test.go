package guardcontroller

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vibestack/rollback/pkg/rollout"
)

// undoPatchOf builds a patch shaped like rollout.Undo's write (a
// Deployment's also replaces the annotations, kubectl's way).
func undoPatchOf(t *testing.T, info *rollout.WorkloadInfo, tmpl corev1.PodTemplateSpec) []byte {
	t.Helper()
	ops := []map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": info.Generation},
		{"op": "test", "path": "/metadata/annotations", "value": info.Annotations},
		{"op": "replace", "path": "/spec/template", "value": tmpl},
	}
	if info.Kind == rollout.KindDeployment {
		ann := map[string]string{}
		for k, v := range info.Annotations {
			ann[k] = v
		}
		ops = append(ops, map[string]any{"op": "replace", "path": "/metadata/annotations", "value": ann})
	}
	p, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

// markerFixture returns a guarded workload of kind k at the v2 template
// and the object holding its revision 1 (v1, hash h1).
func markerFixture(t *testing.T, k rollout.Kind, ann map[string]string) []runtime.Object {
	t.Helper()
	yes := true
	meta := metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "uid-web", Generation: 4, Annotations: ann}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: string(k), Name: "web", UID: "uid-web", Controller: &yes}}
	t1 := template("app:v1")
	switch k {
	case rollout.KindDeployment:
		t1.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "h1"
		return []runtime.Object{
			&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: sel, Template: template("app:v2")}},
			&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-h1", Namespace: "shop", OwnerReferences: owner,
				Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h1"}}, Spec: appsv1.ReplicaSetSpec{Template: t1}},
		}
	}
	data, err := json.Marshal(map[string]any{"spec": map[string]any{"template": t1}})
	if err != nil {
		t.Fatal(err)
	}
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-h1", Namespace: "shop", OwnerReferences: owner,
		Labels: map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: "h1"}}, Revision: 1, Data: runtime.RawExtension{Raw: data}}
	if k == rollout.KindStatefulSet {
		return []runtime.Object{&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: sel, Template: template("app:v2")}}, cr}
	}
	return []runtime.Object{&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: template("app:v2")}}, cr}
}

// The rollback write carries the rolling-back state and the target's hash,
// atomically, on every kind; any other patch passes through untouched.
func TestRollbackMarker(t *testing.T) {
	for _, k := range rollout.Kinds {
		t.Run(string(k), func(t *testing.T) {
			ctx := context.Background()
			old := State{Hash: "h2", Revision: 2, Phase: PhaseBaking, By: "a"}
			raw, _ := json.Marshal(old)
			cs := fake.NewSimpleClientset(markerFixture(t, k, map[string]string{AnnotationGuard: "enabled", AnnotationState: string(raw)})...)
			now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
			raws := rollout.NewClients(cs, "shop")
			m := &rollbackMarker{raw: raws, w: rollout.Workload{Kind: k, Namespace: "shop", Name: "web"},
				state: func() State { s := old; s.By, s.Updated, s.Incident = "b", now, "inc-1"; return s }}
			cl := m.withMarker(raws)
			w := m.w
			// A merge patch (a stamp, an annotation) passes through.
			if _, err := rollout.PatchWorkload(ctx, cl, w, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`)); err != nil {
				t.Fatal(err)
			}
			if m.rolledBack() != nil {
				t.Fatal("a merge patch counted as the rollback")
			}
			read, err := rollout.GetWorkload(ctx, raws, w.String())
			if err != nil {
				t.Fatal(err)
			}
			// Undo writes the target's template (a Deployment's without the hash label).
			got, err := rollout.PatchWorkload(ctx, cl, w, types.JSONPatchType, undoPatchOf(t, read, template("app:v1")))
			if err != nil {
				t.Fatal(err)
			}
			if got.Template.Spec.Containers[0].Image != "app:v1" {
				t.Errorf("the rollback itself was not written")
			}
			s, err := ReadState(got.Object)
			if err != nil || s == nil {
				t.Fatalf("state %v %v", s, err)
			}
			if s.Phase != PhaseRollingBack || s.Hash != "h2" || s.RollbackTo != "h1" || s.By != "b" || s.Incident != "inc-1" {
				t.Errorf("state written with the rollback: %+v", s)
			}
			if l := m.rolledBack(); l == nil || l.RollbackTo != "h1" {
				t.Errorf("rolledBack() = %+v", l)
			}
			if got.Annotations[AnnotationGuard] != "enabled" {
				t.Errorf("opt-in annotation lost")
			}
		})
	}
}
