package rollout

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// History lists the revisions of a Deployment with their health.
type History struct {
	Clients Clients
}

// HistoryResult is every revision of one Deployment, oldest first.
type HistoryResult struct {
	Deployment string     `json:"deployment"`
	Namespace  string     `json:"namespace"`
	Current    int64      `json:"currentRevision"`
	LastGood   int64      `json:"lastKnownGoodRevision"`
	Revisions  []Revision `json:"revisions"`
	// Failure is a pod of the current revision that fails right now, or nil.
	Failure *PodFailure `json:"failure,omitempty"`
}

// Run reads the Deployment, its ReplicaSets and the pods of its current
// revision (three requests) and returns its history.
func (h *History) Run(ctx context.Context, name string) (*HistoryResult, error) {
	d, err := h.Clients.Deployments.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, getError(err, "deployment", name)
	}
	sel := selectorString(d)
	rss, err := h.Clients.ReplicaSets.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list replicasets of deployment %s: %w", name, err)
	}
	res := &HistoryResult{Deployment: name, Namespace: d.Namespace, Revisions: revisions(d, rss.Items)}
	if g := lastGood(res.Revisions); g != nil {
		res.LastGood = g.Number
	}
	cur := current(res.Revisions)
	if cur == nil {
		return res, nil
	}
	res.Current = cur.Number
	pods, err := h.Clients.Pods.List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list pods of deployment %s: %w", name, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if ownedBy(p, cur.rs) && p.DeletionTimestamp == nil {
			if f := PodFailureOf(p); f != nil {
				res.Failure = f
				break
			}
		}
	}
	return res, nil
}
