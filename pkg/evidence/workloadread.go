package evidence

import (
	"context"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// workloadRevisions reads a Deployment, StatefulSet or DaemonSet through
// pkg/rollout's one read of a workload: its revisions (ReplicaSets or
// ControllerRevisions, numbered, judged and chosen as an undo chooses
// them) and the pods of each.
type workloadRevisions struct {
	clients rollout.Clients
	// toRevision is the rollback's target; 0 means the one pkg/rollout
	// chooses (the last known good revision).
	toRevision int64
}

// workloadStatus is what the bundle keeps of the workload itself: its
// spec summary and status, never its pod template.
type workloadStatus struct {
	Kind        string            `json:"kind"`
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Generation  int64             `json:"generation"`
	Replicas    *int32            `json:"replicas,omitempty"`
	Paused      bool              `json:"paused,omitempty"`
	Strategy    any               `json:"strategy"`
	Selector    string            `json:"selector"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Status      any               `json:"status"`
}

func statusOf(obj any, sel string) workloadStatus {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return workloadStatus{Kind: "Deployment", Name: o.Name, Namespace: o.Namespace, Generation: o.Generation, Replicas: o.Spec.Replicas,
			Paused: o.Spec.Paused, Strategy: o.Spec.Strategy, Selector: sel, Annotations: keptAnnotations(o.Annotations), Status: o.Status}
	case *appsv1.StatefulSet:
		return workloadStatus{Kind: "StatefulSet", Name: o.Name, Namespace: o.Namespace, Generation: o.Generation, Replicas: o.Spec.Replicas,
			Strategy: map[string]any{"updateStrategy": o.Spec.UpdateStrategy, "podManagementPolicy": o.Spec.PodManagementPolicy},
			Selector: sel, Annotations: keptAnnotations(o.Annotations), Status: o.Status}
	case *appsv1.DaemonSet:
		return workloadStatus{Kind: "DaemonSet", Name: o.Name, Namespace: o.Namespace, Generation: o.Generation,
			Strategy: o.Spec.UpdateStrategy, Selector: sel, Annotations: keptAnnotations(o.Annotations), Status: o.Status}
	}
	return workloadStatus{}
}

func (r workloadRevisions) read(ctx context.Context, workload string) (*workloadView, error) {
	snap, err := rollout.ReadSnapshot(ctx, r.clients, workload)
	if err != nil {
		return nil, err
	}
	hist := snap.History
	w := rollout.Workload{Kind: hist.Kind, Name: hist.Name}
	v := &workloadView{Kind: hist.Kind.Lower(), Name: hist.Name, Namespace: hist.Namespace, Status: statusOf(snap.Object, snap.Selector)}
	objects := map[string]bool{}
	var cur *rollout.Revision
	for i, h := range hist.Revisions {
		ref := h.Ref()
		rv := revisionView{Number: h.Number, Object: strings.ToLower(objectKind(hist.Kind)) + "/" + ref.Object, Hash: ref.Hash, Images: h.Images, Created: h.Created,
			Replicas: h.Replicas, Ready: h.Ready, Health: h.Health, Failed: h.FailedReason, Cause: h.ChangeCause, Current: h.Current, LastGood: h.LastGood}
		if t := snap.Template(h); t != nil {
			rv.template = t.DeepCopy()
		}
		objects[ref.Object] = true
		if h.Current {
			cur = &hist.Revisions[i]
		}
		v.Revisions = append(v.Revisions, rv)
	}
	for i := range v.Revisions {
		if v.Revisions[i].Current {
			v.Current = &v.Revisions[i]
		}
	}
	if t, err := rollout.ChooseTarget(w, hist.Revisions, cur, r.toRevision); err == nil && t.Revision != nil {
		for i := range v.Revisions {
			if v.Revisions[i].Number == t.Revision.Number && !v.Revisions[i].Current {
				v.Revisions[i].Target = true
				v.Target = &v.Revisions[i]
			}
		}
	}
	v.Pods = snap.Pods
	v.revisionOf = func(p *corev1.Pod) *revisionView {
		if rev := snap.RevisionOf(p); rev != nil {
			for i := range v.Revisions {
				if v.Revisions[i].Number == rev.Number {
					return &v.Revisions[i]
				}
			}
		}
		return nil
	}
	kind := string(hist.Kind)
	v.owns = func(k, n string) bool {
		switch k {
		case kind:
			return n == hist.Name
		case objectKind(hist.Kind):
			return objects[n]
		case "Pod":
			if hist.Kind != rollout.KindDeployment {
				return strings.HasPrefix(n, hist.Name+"-")
			}
			for rs := range objects {
				if strings.HasPrefix(n, rs+"-") {
					return true
				}
			}
		}
		return false
	}
	return v, nil
}

// objectKind is the kind of the objects that hold k's revisions.
func objectKind(k rollout.Kind) string {
	if k == rollout.KindDeployment {
		return "ReplicaSet"
	}
	return "ControllerRevision"
}

// keptAnnotations are the annotations the bundle keeps: the change cause,
// the revision and rollback's own; never kubectl's last-applied
// configuration, which holds the whole manifest (env values included).
func keptAnnotations(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, val := range a {
		if k == "kubernetes.io/change-cause" || k == "deployment.kubernetes.io/revision" || strings.HasPrefix(k, "rollback.vibestack.dev/") {
			out[k] = val
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
