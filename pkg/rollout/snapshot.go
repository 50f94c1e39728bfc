package rollout

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Snapshot is one read of a workload with what judges it: the object, its
// revisions (judged as History judges them) with their pod templates, and
// the pods of every revision. The evidence of a rollback is kept from it.
type Snapshot struct {
	// History is the workload's judged revisions, oldest first.
	History *HistoryResult
	// Object is the Deployment, StatefulSet or DaemonSet as read.
	Object runtime.Object
	// Selector is its pod selector.
	Selector string
	// Pods are the pods of its selector (every revision's).
	Pods []*corev1.Pod

	o object
}

// ReadSnapshot reads workload (kubectl's resource syntax): the object,
// the ReplicaSets or ControllerRevisions that hold its revisions, and its
// pods.
func ReadSnapshot(ctx context.Context, c Clients, workload string) (*Snapshot, error) {
	o, err := getWorkload(ctx, c, workload)
	if err != nil {
		return nil, err
	}
	srcs, err := revisionSources(ctx, c, o)
	if err != nil {
		return nil, err
	}
	pods, err := listPods(ctx, c, o)
	if err != nil {
		return nil, err
	}
	return &Snapshot{History: historyOf(o, srcs, pods), Object: o.runtimeObject(), Selector: o.selector(), Pods: pods, o: o}, nil
}

// Template returns the pod template of revision r of the snapshot (nil
// when its object holds none).
func (s *Snapshot) Template(r Revision) *corev1.PodTemplateSpec {
	if r.src == nil {
		return nil
	}
	return r.src.tmpl
}

// RevisionOf returns the revision pod p belongs to, nil when none does.
func (s *Snapshot) RevisionOf(p *corev1.Pod) *Revision {
	for i := range s.History.Revisions {
		if r := &s.History.Revisions[i]; r.src != nil && belongs(s.o, r.src, p) {
			return r
		}
	}
	return nil
}
