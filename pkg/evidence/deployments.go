package evidence

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// deploymentRevisions reads a Deployment: its revisions are its
// ReplicaSets (numbered, judged and chosen by pkg/rollout), the pods of a
// revision carry its pod-template-hash.
type deploymentRevisions struct {
	clients rollout.Clients
	// toRevision is the rollback's target; 0 means the one pkg/rollout
	// chooses (the last known good revision).
	toRevision int64
}

// deploymentStatus is what the bundle keeps of the Deployment itself.
type deploymentStatus struct {
	Name        string                    `json:"name"`
	Namespace   string                    `json:"namespace"`
	Generation  int64                     `json:"generation"`
	Replicas    *int32                    `json:"replicas,omitempty"`
	Paused      bool                      `json:"paused,omitempty"`
	Strategy    appsv1.DeploymentStrategy `json:"strategy"`
	Selector    string                    `json:"selector"`
	Annotations map[string]string         `json:"annotations,omitempty"`
	Status      appsv1.DeploymentStatus   `json:"status"`
}

func (r deploymentRevisions) read(ctx context.Context, name string) (*workloadView, error) {
	d, err := r.clients.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get deployment %s: %w", name, err)
	}
	sel := ""
	if d.Spec.Selector != nil {
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			sel = s.String()
		}
	}
	hist, err := (&rollout.History{Clients: r.clients}).Run(ctx, name)
	if err != nil {
		return nil, err
	}
	rss, err := r.clients.ReplicaSets.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list replicasets of deployment %s: %w", name, err)
	}
	pods, err := r.clients.Pods.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list pods of deployment %s: %w", name, err)
	}
	byName := map[string]*appsv1.ReplicaSet{}
	for i := range rss.Items {
		byName[rss.Items[i].Name] = &rss.Items[i]
	}
	v := &workloadView{Kind: "deployment", Name: name, Namespace: d.Namespace,
		Status: deploymentStatus{Name: d.Name, Namespace: d.Namespace, Generation: d.Generation, Replicas: d.Spec.Replicas,
			Paused: d.Spec.Paused, Strategy: d.Spec.Strategy, Selector: sel, Annotations: keptAnnotations(d.Annotations), Status: d.Status}}
	byUID := map[string]int{}
	var cur *rollout.Revision
	for i, h := range hist.Revisions {
		rv := revisionView{Number: h.Number, Object: "replicaset/" + h.ReplicaSet, Hash: h.Hash, Images: h.Images, Created: h.Created,
			Replicas: h.Replicas, Ready: h.Ready, Health: h.Health, Failed: h.FailedReason, Cause: h.ChangeCause, Current: h.Current, LastGood: h.LastGood}
		if rs := byName[h.ReplicaSet]; rs != nil {
			rv.template = rs.Spec.Template.DeepCopy()
			byUID[string(rs.UID)] = i
		}
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
	if t, err := rollout.ChooseTarget(name, hist.Revisions, cur, r.toRevision); err == nil && t.Revision != nil {
		for i := range v.Revisions {
			if v.Revisions[i].Number == t.Revision.Number && !v.Revisions[i].Current {
				v.Revisions[i].Target = true
				v.Target = &v.Revisions[i]
			}
		}
	}
	for i := range pods.Items {
		v.Pods = append(v.Pods, &pods.Items[i])
	}
	v.revisionOf = func(p *corev1.Pod) *revisionView {
		if ref := metav1.GetControllerOf(p); ref != nil {
			if i, ok := byUID[string(ref.UID)]; ok {
				return &v.Revisions[i]
			}
		}
		return nil
	}
	v.owns = func(kind, n string) bool {
		switch kind {
		case "Deployment":
			return n == name
		case "ReplicaSet":
			return byName[n] != nil
		case "Pod":
			for rs := range byName {
				if strings.HasPrefix(n, rs+"-") {
					return true
				}
			}
		}
		return false
	}
	return v, nil
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
