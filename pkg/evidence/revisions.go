package evidence

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// revisionReader is the seam to the kinds of workloads: it lists a
// workload's revisions and its pods, and says which revision each pod
// belongs to, for every kind pkg/rollout reads (workloadRevisions).
type revisionReader interface {
	// read returns workload (kubectl's resource syntax: deployment/web).
	read(ctx context.Context, workload string) (*workloadView, error)
}

// workloadView is one workload as the evidence sees it.
type workloadView struct {
	Kind, Name, Namespace string
	// Status is the workload's spec summary and status (no pod template,
	// no annotations but rollback's and the change cause).
	Status any
	// Revisions are oldest first.
	Revisions []revisionView
	// Current is the revision being rolled back (nil when none matches).
	Current *revisionView
	// Target is the revision the rollback goes to (nil when none).
	Target *revisionView
	// Pods are the workload's pods.
	Pods []*corev1.Pod
	// revisionOf returns the revision of a pod (nil when unknown).
	revisionOf func(*corev1.Pod) *revisionView
	// owns reports whether an Event about kind/name concerns the workload.
	owns func(kind, name string) bool
}

// revisionView is one revision: a ReplicaSet (or a ControllerRevision).
type revisionView struct {
	Number   int64     `json:"revision"`
	Object   string    `json:"object"`
	Hash     string    `json:"hash,omitempty"`
	Images   []string  `json:"images"`
	Created  time.Time `json:"created"`
	Replicas int32     `json:"replicas"`
	Ready    int32     `json:"readyReplicas"`
	Health   string    `json:"health"`
	Failed   string    `json:"failedReason,omitempty"`
	Cause    string    `json:"changeCause,omitempty"`
	Current  bool      `json:"current"`
	LastGood bool      `json:"lastKnownGood"`
	Target   bool      `json:"rollbackTarget"`

	template *corev1.PodTemplateSpec
}
