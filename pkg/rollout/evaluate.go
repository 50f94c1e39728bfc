package rollout

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodFailure is a pod of the revision being rolled out that will not become
// healthy by waiting: the reason rollback fails fast.
type PodFailure struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Reason    string `json:"reason"`
	Message   string `json:"message,omitempty"`
	Restarts  int32  `json:"restarts"`
}

// String describes the failure in one line.
func (f *PodFailure) String() string {
	s := fmt.Sprintf("pod %s container %s: %s", f.Pod, f.Container, f.Reason)
	if f.Message != "" {
		s += ": " + f.Message
	}
	if f.Restarts > 0 {
		s += fmt.Sprintf(" (restarts %d)", f.Restarts)
	}
	return s
}

// failFastReasons are the container waiting reasons that do not go away by
// waiting for the progress deadline.
var failFastReasons = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"InvalidImageName":           true,
	"RunContainerError":          true,
}

// PodFailureOf returns why p will not become healthy, or nil: a container
// waiting with a fail-fast reason (CrashLoopBackOff, ImagePullBackOff,
// ErrImagePull, CreateContainerConfigError, ...) or killed for running out
// of memory (OOMKilled).
func PodFailureOf(p *corev1.Pod) *PodFailure {
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		last := lastExit(cs.LastTerminationState.Terminated)
		if w := cs.State.Waiting; w != nil && failFastReasons[w.Reason] {
			reason := w.Reason
			if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
				reason = "OOMKilled (" + w.Reason + ")"
			}
			return &PodFailure{Pod: p.Name, Container: cs.Name, Reason: reason, Message: joinNonEmpty(w.Message, last), Restarts: cs.RestartCount}
		}
		if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" {
			return &PodFailure{Pod: p.Name, Container: cs.Name, Reason: "OOMKilled", Message: lastExit(t), Restarts: cs.RestartCount}
		}
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
			return &PodFailure{Pod: p.Name, Container: cs.Name, Reason: "OOMKilled", Message: last, Restarts: cs.RestartCount}
		}
	}
	return nil
}

func lastExit(t *corev1.ContainerStateTerminated) string {
	if t == nil {
		return ""
	}
	s := fmt.Sprintf("last exit: %s (exit code %d)", orUnknown(t.Reason), t.ExitCode)
	if t.Message != "" {
		s += ": " + strings.TrimSpace(t.Message)
	}
	return s
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// PodReady reports whether p has the Ready condition: the one readiness
// test of every path (watch, guard's bake, preflight).
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodRestarts sums the restart counts of p's containers, init containers
// included: the one restart count of every path.
func PodRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	for _, cs := range p.Status.InitContainerStatuses {
		n += cs.RestartCount
	}
	return n
}

// Progress is the state of one workload's rollout at one moment.
type Progress struct {
	Desired     int32 `json:"desired"`
	Updated     int32 `json:"updated"`
	Ready       int32 `json:"ready"`
	Available   int32 `json:"available"`
	OldReplicas int32 `json:"oldReplicas"`
	// Partition is a StatefulSet's partition: the ordinals below it keep
	// their revision and are not counted as old replicas.
	Partition int32 `json:"partition,omitempty"`
	// Observed is true when the controller has seen the current generation.
	Observed bool `json:"-"`
	// Complete is true when every desired replica is updated (from the
	// partition up), ready and available, no old replica is left and every
	// pod of the new revision is Ready.
	Complete bool `json:"-"`
	// DeadlineExceeded is true when the Deployment reports ProgressDeadlineExceeded.
	DeadlineExceeded bool `json:"-"`
	// Failure is the first pod of the new revision that fails fast, or nil.
	Failure *PodFailure `json:"-"`
	// NotReady names a pod of the new revision that is not Ready.
	NotReady string `json:"-"`
}

// EvaluateRollout judges d's rollout of newRS (nil when the controller has
// not created it yet) from the pods of that ReplicaSet.
func EvaluateRollout(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, pods []*corev1.Pod) Progress {
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	p := Progress{
		Desired:     desired,
		Updated:     d.Status.UpdatedReplicas,
		Ready:       d.Status.ReadyReplicas,
		Available:   d.Status.AvailableReplicas,
		OldReplicas: d.Status.Replicas - d.Status.UpdatedReplicas,
		Observed:    d.Status.ObservedGeneration >= d.Generation,
	}
	if p.OldReplicas < 0 {
		p.OldReplicas = 0
	}
	if c := deploymentCondition(d.Status, appsv1.DeploymentProgressing); p.Observed && c != nil && c.Reason == timedOutReason {
		p.DeadlineExceeded = true
	}
	if newRS == nil {
		return p
	}
	var ready int32
	for _, pod := range pods {
		if !ownedBy(pod, newRS) || pod.DeletionTimestamp != nil {
			continue
		}
		if p.Failure == nil {
			p.Failure = PodFailureOf(pod)
		}
		if PodReady(pod) {
			ready++
		} else if p.NotReady == "" {
			p.NotReady = pod.Name
		}
	}
	p.Complete = p.Observed && p.Updated >= desired && d.Status.Replicas == p.Updated &&
		p.Available >= desired && ready >= desired && p.NotReady == ""
	return p
}

// ownedBy reports whether pod belongs to rs.
func ownedBy(pod *corev1.Pod, rs *appsv1.ReplicaSet) bool {
	if ref := metav1.GetControllerOf(pod); ref != nil {
		return ref.UID == rs.UID
	}
	return false
}

// String prints the progress as one line.
func (p Progress) String() string {
	s := fmt.Sprintf("%d/%d updated, %d/%d ready, %d/%d available", p.Updated, p.Desired, p.Ready, p.Desired, p.Available, p.Desired)
	if p.Partition > 0 {
		s += fmt.Sprintf(", partition %d", p.Partition)
	}
	if p.OldReplicas > 0 {
		s += fmt.Sprintf(", %d old %s left", p.OldReplicas, plural(int(p.OldReplicas), "replica", "replicas"))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
