package guardcontroller

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

// undoPatchOf builds a patch shaped like rollout.Undo's write.
func undoPatchOf(t *testing.T, d *appsv1.Deployment, tmpl corev1.PodTemplateSpec) []byte {
	t.Helper()
	ann := map[string]string{}
	for k, v := range d.Annotations {
		ann[k] = v
	}
	p, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/generation", "value": d.Generation},
		{"op": "test", "path": "/metadata/annotations", "value": d.Annotations},
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": "replace", "path": "/metadata/annotations", "value": ann},
	})
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

// The rollback write carries the rolling-back state and the target's hash,
// atomically; any other patch passes through untouched.
func TestRollbackMarker(t *testing.T) {
	ctx := context.Background()
	old := State{Hash: "h2", Revision: 2, Phase: PhaseBaking, By: "a"}
	raw, _ := json.Marshal(old)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 4, Annotations: map[string]string{AnnotationGuard: "enabled", AnnotationState: string(raw)}},
		Spec:       appsv1.DeploymentSpec{Template: template("app:v2")},
	}
	t1 := template("app:v1")
	t1.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "h1"
	rs1 := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-h1", Namespace: "shop", Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "h1"}},
		Spec: appsv1.ReplicaSetSpec{Template: t1}}
	cs := fake.NewSimpleClientset(d, rs1)
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	m := &rollbackMarker{
		DeploymentInterface: cs.AppsV1().Deployments("shop"), replicaSets: cs.AppsV1().ReplicaSets("shop"), name: "web",
		state: func() State { s := old; s.By, s.Updated, s.Incident = "b", now, "inc-1"; return s },
	}
	// A merge patch (a stamp, an annotation) passes through.
	if _, err := m.Patch(ctx, "web", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if m.rolledBack() != nil {
		t.Fatal("a merge patch counted as the rollback")
	}
	d, _ = cs.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	undo := template("app:v1") // Undo writes the target's template without the hash label
	got, err := m.Patch(ctx, "web", types.JSONPatchType, undoPatchOf(t, d, undo), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Template.Spec.Containers[0].Image != "app:v1" {
		t.Errorf("the rollback itself was not written")
	}
	s, err := ReadState(got)
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
}
