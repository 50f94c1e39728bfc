package guardcontroller

import (
	"context"
	"encoding/json"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// rollbackMarker makes the rollback write of a guarded workload
// (rollout.Undo's JSON patch, which replaces the pod template after testing
// the generation and annotations it read) also set the guard state to
// rolling-back, naming the revision it puts back, in the same atomic patch:
// the state can never say "not rolled back yet" once the rollback landed,
// so a controller that takes over never rolls back a second time. It sits
// in front of the workload kind's client (markedDeployments,
// markedStatefulSets, markedDaemonSets).
type rollbackMarker struct {
	// raw are the clients without the marker, to find the target revision.
	raw   rollout.Clients
	w     rollout.Workload
	state func() State

	mu     sync.Mutex
	landed *State
}

// withMarker returns cl with the client of m's workload kind marked.
func (m *rollbackMarker) withMarker(cl rollout.Clients) rollout.Clients {
	switch m.w.Kind {
	case rollout.KindStatefulSet:
		cl.StatefulSets = markedStatefulSets{cl.StatefulSets, m}
	case rollout.KindDaemonSet:
		cl.DaemonSets = markedDaemonSets{cl.DaemonSets, m}
	default:
		cl.Deployments = markedDeployments{cl.Deployments, m}
	}
	return cl
}

// mark returns the patch to send: an undo patch of the guarded workload
// with the rolling-back state added, anything else unchanged; s is the
// state added (nil when none).
func (m *rollbackMarker) mark(ctx context.Context, name string, pt types.PatchType, data []byte, subresources []string) ([]byte, *State) {
	if pt != types.JSONPatchType || name != m.w.Name || len(subresources) > 0 {
		return data, nil
	}
	ops, tmpl, ok := undoOps(data)
	if !ok {
		return data, nil
	}
	s := m.state()
	s.Phase = PhaseRollingBack
	s.RollbackTo = m.targetHash(ctx, tmpl)
	patched, err := withState(ops, s)
	if err != nil {
		return data, nil
	}
	return patched, &s
}

// wrote records the state of a marked patch that landed.
func (m *rollbackMarker) wrote(s *State, err error) {
	if s == nil || err != nil {
		return
	}
	m.mu.Lock()
	m.landed = s
	m.mu.Unlock()
}

// rolledBack returns the state written with the rollback, nil when none landed.
func (m *rollbackMarker) rolledBack() *State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.landed
}

// targetHash finds the hash of the revision whose template the undo puts
// back ("" when not found).
func (m *rollbackMarker) targetHash(ctx context.Context, tmpl *corev1.PodTemplateSpec) string {
	if tmpl == nil {
		return ""
	}
	rev, err := rollout.FindRevision(ctx, m.raw, m.w.String(), tmpl)
	if err != nil || rev == nil {
		return ""
	}
	return rev.Ref().Hash
}

// markedPatch sends patch, an undo of the guarded workload with the
// rolling-back state added (any other patch unchanged), and records the
// state when it landed.
func markedPatch[T any](ctx context.Context, m *rollbackMarker, name string, pt types.PatchType, data []byte, subresources []string, patch func([]byte) (T, error)) (T, error) {
	data, s := m.mark(ctx, name, pt, data, subresources)
	out, err := patch(data)
	m.wrote(s, err)
	return out, err
}

// markedDeployments is the Deployments client of a guarded Deployment.
type markedDeployments struct {
	appsv1client.DeploymentInterface
	m *rollbackMarker
}

// Patch adds the rolling-back state to an undo patch of the guarded Deployment.
func (c markedDeployments) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.Deployment, error) {
	return markedPatch(ctx, c.m, name, pt, data, subresources, func(data []byte) (*appsv1.Deployment, error) {
		return c.DeploymentInterface.Patch(ctx, name, pt, data, opts, subresources...)
	})
}

// markedStatefulSets is the StatefulSets client of a guarded StatefulSet.
type markedStatefulSets struct {
	appsv1client.StatefulSetInterface
	m *rollbackMarker
}

// Patch adds the rolling-back state to an undo patch of the guarded StatefulSet.
func (c markedStatefulSets) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.StatefulSet, error) {
	return markedPatch(ctx, c.m, name, pt, data, subresources, func(data []byte) (*appsv1.StatefulSet, error) {
		return c.StatefulSetInterface.Patch(ctx, name, pt, data, opts, subresources...)
	})
}

// markedDaemonSets is the DaemonSets client of a guarded DaemonSet.
type markedDaemonSets struct {
	appsv1client.DaemonSetInterface
	m *rollbackMarker
}

// Patch adds the rolling-back state to an undo patch of the guarded DaemonSet.
func (c markedDaemonSets) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.DaemonSet, error) {
	return markedPatch(ctx, c.m, name, pt, data, subresources, func(data []byte) (*appsv1.DaemonSet, error) {
		return c.DaemonSetInterface.Patch(ctx, name, pt, data, opts, subresources...)
	})
}

// undoOps recognises an undo patch (a test of /metadata/generation and a
// replace of /spec/template; a Deployment's also replaces
// /metadata/annotations) and returns its operations and the template it
// writes. ok is false for any other patch.
func undoOps(data []byte) ([]map[string]any, *corev1.PodTemplateSpec, bool) {
	var ops []map[string]any
	if err := json.Unmarshal(data, &ops); err != nil {
		return nil, nil, false
	}
	var hasGen bool
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
		}
	}
	return ops, tmpl, hasGen && tmpl != nil
}

// withState sets AnnotationState to s in the annotations the undo writes:
// in its replace of /metadata/annotations, or by an operation of its own
// when it writes none (a StatefulSet's or DaemonSet's undo; the guarded
// workload has annotations, its opt-in among them).
func withState(ops []map[string]any, s State) ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	replaced := false
	for _, op := range ops {
		if op["path"] == "/metadata/annotations" && op["op"] == "replace" {
			ann, _ := op["value"].(map[string]any)
			if ann == nil {
				ann = map[string]any{}
			}
			ann[AnnotationState] = string(raw)
			op["value"] = ann
			replaced = true
		}
	}
	if !replaced {
		ops = append(ops, map[string]any{"op": "add", "path": "/metadata/annotations/" + escapePointer(AnnotationState), "value": string(raw)})
	}
	return json.Marshal(ops)
}
