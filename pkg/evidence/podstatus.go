package evidence

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/vibestack/rollback/pkg/rollout"
)

// Roles of a pod in the evidence.
const (
	// RoleBad: a pod of the revision being rolled back.
	RoleBad = "rolled-back revision"
	// RoleHealthy: a Ready pod of another revision, for comparison.
	RoleHealthy = "healthy sample"
	// RoleOther: any other pod of the workload.
	RoleOther = "other"
)

// PodStatus is the status of one pod, judged by pkg/rollout's one pod-health
// evaluation (PodFailureOf, PodReady, PodRestarts). Env values are never part of it.
type PodStatus struct {
	Pod      string              `json:"pod"`
	Revision int64               `json:"revision,omitempty"`
	Role     string              `json:"role"`
	Phase    corev1.PodPhase     `json:"phase"`
	Ready    bool                `json:"ready"`
	Restarts int32               `json:"restarts"`
	Failure  *rollout.PodFailure `json:"failure,omitempty"`
	Node     string              `json:"node,omitempty"`
	Created  time.Time           `json:"created"`
	Started  *time.Time          `json:"started,omitempty"`
	Deleting bool                `json:"deleting,omitempty"`
	// Conditions are the pod's conditions (type=status, reason, message).
	Conditions []PodCondition    `json:"conditions,omitempty"`
	Containers []ContainerStatus `json:"containers"`
}

// PodCondition is one condition of a pod.
type PodCondition struct {
	Type    corev1.PodConditionType `json:"type"`
	Status  corev1.ConditionStatus  `json:"status"`
	Reason  string                  `json:"reason,omitempty"`
	Message string                  `json:"message,omitempty"`
	Since   time.Time               `json:"since"`
}

// ContainerStatus is the state of one container.
type ContainerStatus struct {
	Name     string `json:"name"`
	Init     bool   `json:"init,omitempty"`
	Image    string `json:"image"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts"`
	// State is running, waiting or terminated, with its reason and message.
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// ExitCode, StartedAt and FinishedAt are those of the current run when
	// it ended, else of the last one.
	ExitCode   *int32     `json:"exitCode,omitempty"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Last is the previous run's end: reason, exit code, when.
	LastReason   string     `json:"lastReason,omitempty"`
	LastExitCode *int32     `json:"lastExitCode,omitempty"`
	LastFinished *time.Time `json:"lastFinishedAt,omitempty"`
}

// podStatusOf summarises p.
func podStatusOf(p *corev1.Pod, rev *revisionView, role string) PodStatus {
	s := PodStatus{Pod: p.Name, Role: role, Phase: p.Status.Phase, Ready: rollout.PodReady(p), Restarts: rollout.PodRestarts(p),
		Failure: rollout.PodFailureOf(p), Node: p.Spec.NodeName, Created: p.CreationTimestamp.Time, Deleting: p.DeletionTimestamp != nil}
	if rev != nil {
		s.Revision = rev.Number
	}
	if p.Status.StartTime != nil {
		t := p.Status.StartTime.Time
		s.Started = &t
	}
	for _, c := range p.Status.Conditions {
		s.Conditions = append(s.Conditions, PodCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message, Since: c.LastTransitionTime.Time})
	}
	images := map[string]string{}
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		images[c.Name] = c.Image
	}
	add := func(cs corev1.ContainerStatus, init bool) {
		c := ContainerStatus{Name: cs.Name, Init: init, Image: images[cs.Name], Ready: cs.Ready, Restarts: cs.RestartCount}
		if c.Image == "" {
			c.Image = cs.Image
		}
		switch st := cs.State; {
		case st.Running != nil:
			c.State = "running"
			c.StartedAt = timePtr(st.Running.StartedAt.Time)
		case st.Waiting != nil:
			c.State, c.Reason, c.Message = "waiting", st.Waiting.Reason, st.Waiting.Message
		case st.Terminated != nil:
			t := st.Terminated
			c.State, c.Reason, c.Message = "terminated", t.Reason, t.Message
			c.ExitCode, c.StartedAt, c.FinishedAt = &t.ExitCode, timePtr(t.StartedAt.Time), timePtr(t.FinishedAt.Time)
		default:
			c.State = "unknown"
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			c.LastReason, c.LastExitCode, c.LastFinished = t.Reason, &t.ExitCode, timePtr(t.FinishedAt.Time)
			if c.ExitCode == nil {
				c.ExitCode = &t.ExitCode
			}
		}
		s.Containers = append(s.Containers, c)
	}
	for _, cs := range p.Status.InitContainerStatuses {
		add(cs, true)
	}
	for _, cs := range p.Status.ContainerStatuses {
		add(cs, false)
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// hasRun reports whether a container has a log of its current run: it runs,
// ended, or backs off after a crash (the log of the run that crashed).
func hasRun(cs corev1.ContainerStatus) bool {
	switch {
	case cs.State.Running != nil, cs.State.Terminated != nil:
		return true
	case cs.State.Waiting != nil:
		return cs.State.Waiting.Reason == "CrashLoopBackOff" || cs.LastTerminationState.Terminated != nil
	}
	return false
}

// hasPrevious reports whether a container has a previous run's log that
// differs from its current one: while a crashed container backs off, its
// current log is the crashed run, the previous run's too.
func hasPrevious(cs corev1.ContainerStatus) bool {
	return cs.LastTerminationState.Terminated != nil && (cs.State.Running != nil || cs.State.Terminated != nil)
}
