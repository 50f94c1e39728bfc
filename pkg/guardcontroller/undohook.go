package guardcontroller

import (
	"context"
	"encoding/json"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
)

// rollbackMarker wraps the Deployments client a guard uses so that the
// rollback write (rollout.Undo's JSON patch, which replaces the pod template
// after testing the generation and annotations it read) also sets the guard
// state to rolling-back, naming the revision it puts back, in the same atomic
// patch: the state can never say "not rolled back yet" once the rollback
// landed, so a controller that takes over never rolls back a second time.
type rollbackMarker struct {
	appsv1client.DeploymentInterface

	replicaSets appsv1client.ReplicaSetInterface
	name        string
	state       func() State

	mu     sync.Mutex
	landed *State
}

// Patch adds the rolling-back state to an undo patch of the guarded Deployment.
func (m *rollbackMarker) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.Deployment, error) {
	if pt != types.JSONPatchType || name != m.name || len(subresources) > 0 {
		return m.DeploymentInterface.Patch(ctx, name, pt, data, opts, subresources...)
	}
	s := m.state()
	ops, tmpl, ok := undoOps(data)
	if !ok {
		return m.DeploymentInterface.Patch(ctx, name, pt, data, opts, subresources...)
	}
	s.Phase = PhaseRollingBack
	s.RollbackTo = m.targetHash(ctx, tmpl)
	patched, err := withState(ops, s)
	if err != nil {
		return m.DeploymentInterface.Patch(ctx, name, pt, data, opts, subresources...)
	}
	d, err := m.DeploymentInterface.Patch(ctx, name, pt, patched, opts, subresources...)
	if err == nil {
		m.mu.Lock()
		m.landed = &s
		m.mu.Unlock()
	}
	return d, err
}

// rolledBack returns the state written with the rollback, nil when none landed.
func (m *rollbackMarker) rolledBack() *State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.landed
}

// targetHash finds the pod-template-hash of the ReplicaSet whose template
// the undo puts back ("" when not found).
func (m *rollbackMarker) targetHash(ctx context.Context, tmpl *corev1.PodTemplateSpec) string {
	if m.replicaSets == nil || tmpl == nil {
		return ""
	}
	list, err := m.replicaSets.List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	want := withoutHash(tmpl)
	for i := range list.Items {
		rs := &list.Items[i]
		if apiequality.Semantic.DeepEqual(withoutHash(&rs.Spec.Template), want) {
			return rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	return ""
}

// withoutHash returns a copy of t without the pod-template-hash label.
func withoutHash(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	c := t.DeepCopy()
	delete(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	return c
}

// undoOps recognises an undo patch (a test of /metadata/generation, a
// replace of /spec/template and a replace of /metadata/annotations) and
// returns its operations and the template it writes. ok is false for any
// other patch.
func undoOps(data []byte) ([]map[string]any, *corev1.PodTemplateSpec, bool) {
	var ops []map[string]any
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, nil, false
	}
	var hasGen, hasAnn bool
	var tmpl *corev1.PodTemplateSpec
	for _, op := range ops {
		switch op["path"] {
		case "/metadata/generation":
			hasGen = hasGen || op["op"] == "test"
		case "/spec/template":
			if op["op"] == "replace" {
				raw, err := json.Marshal(op["value"])
				if err != nil {
					return nil, nil, false
				}
				tmpl = &corev1.PodTemplateSpec{}
				if err := json.Unmarshal(raw, tmpl); err != nil {
					return nil, nil, false
				}
			}
		case "/metadata/annotations":
			if op["op"] == "replace" {
				if _, isMap := op["value"].(map[string]any); isMap || op["value"] == nil {
					hasAnn = true
				}
			}
		}
	}
	return ops, tmpl, hasGen && hasAnn && tmpl != nil
}

// withState sets AnnotationState to s in the annotations the undo writes.
func withState(ops []map[string]any, s State) ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if op["path"] == "/metadata/annotations" && op["op"] == "replace" {
			ann, _ := op["value"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
			}
			ann[AnnotationState] = string(raw)
			op["value"] = ann
		}
	}
	return json.Marshal(ops)
}
