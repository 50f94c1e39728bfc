package rollout

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// History lists the revisions of a workload with their health.
type History struct {
	Clients Clients
}

// HistoryResult is every revision of one workload, oldest first.
type HistoryResult struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Deployment is the name again for a Deployment (the key scripts
	// written before StatefulSets and DaemonSets read).
	Deployment string     `json:"deployment,omitempty"`
	Namespace  string     `json:"namespace"`
	Current    int64      `json:"currentRevision"`
	LastGood   int64      `json:"lastKnownGoodRevision"`
	Revisions  []Revision `json:"revisions"`
	// Failure is a pod of the current revision that fails right now, or nil.
	Failure *PodFailure `json:"failure,omitempty"`
	// Notes say what the update strategy leaves behind: pods an OnDelete
	// strategy or a partition keeps at another revision.
	Notes []string `json:"notes,omitempty"`
}

// Run reads the workload (kubectl's resource syntax: web, deployment/web,
// sts/db, ds/agent), its revisions and its pods (three requests) and
// returns its history.
func (h *History) Run(ctx context.Context, workload string) (*HistoryResult, error) {
	s, err := ReadSnapshot(ctx, h.Clients, workload)
	if err != nil {
		return nil, err
	}
	return s.History, nil
}

// historyOf judges o's revisions srcs from its pods.
func historyOf(o object, srcs []*revisionSource, pods []*corev1.Pod) *HistoryResult {
	w := o.workload()
	res := &HistoryResult{Kind: w.Kind, Name: w.Name, Deployment: deploymentName(w), Namespace: w.Namespace, Revisions: revisions(o, srcs, pods)}
	if g := lastGood(res.Revisions); g != nil {
		res.LastGood = g.Number
	}
	cur := current(res.Revisions)
	if cur == nil {
		return res
	}
	res.Current = cur.Number
	revPods := podsOfRevision(o, cur.src, pods)
	for _, p := range revPods {
		if p.DeletionTimestamp == nil {
			if f := PodFailureOf(p); f != nil {
				res.Failure = f
				break
			}
		}
	}
	_, pp := evaluate(o, cur.src, pods)
	res.Notes = pp.notes(o)
	return res
}

// deploymentName is w's name when it is a Deployment, else "".
func deploymentName(w Workload) string {
	if w.Kind == KindDeployment {
		return w.Name
	}
	return ""
}

// podsOfRevision returns the pods of o's revision src among pods (those
// of o's selector), sorted by name: a Deployment's pods that src's
// ReplicaSet controls, a StatefulSet's or DaemonSet's pods labelled with
// src's revision.
func podsOfRevision(o object, src *revisionSource, pods []*corev1.Pod) []*corev1.Pod {
	if src == nil {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if belongs(o, src, p) {
			out = append(out, p)
		}
	}
	sortPods(out)
	return out
}

// belongs reports whether pod p is of o's revision src: controlled by its
// ReplicaSet, or by o and labelled with its ControllerRevision's hash.
func belongs(o object, src *revisionSource, p *corev1.Pod) bool {
	switch {
	case src.rs != nil:
		return metav1.IsControlledBy(p, src.rs)
	case src.cr != nil:
		return metav1.IsControlledBy(p, o.meta()) && src.ref(o.kind()).holds(p)
	}
	return false
}

// RevisionPods lists the pods of one revision of a workload (kubectl's
// resource syntax), which no kubectl selector picks directly: a
// Deployment's pods that the revision's ReplicaSet controls, a
// StatefulSet's or DaemonSet's pods carrying the revision's
// controller-revision-hash. ref comes from Revision.Ref (History, Plan.From
// for the revision an undo leaves). Terminating pods are included; the
// pods are sorted by name.
func RevisionPods(ctx context.Context, c Clients, workload string, ref RevisionRef) ([]corev1.Pod, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, err
	}
	list, err := c.Pods.List(ctx, metav1.ListOptions{LabelSelector: o.selector()})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		if !ref.holds(p) {
			continue
		}
		ctrl := metav1.GetControllerOfNoCopy(p)
		switch {
		case ctrl == nil:
		case o.kind() == KindDeployment && ctrl.Kind == "ReplicaSet" && ctrl.Name == ref.Object,
			o.kind() != KindDeployment && ctrl.UID == o.meta().UID:
			out = append(out, *p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
