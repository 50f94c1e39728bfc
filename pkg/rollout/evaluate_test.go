package rollout

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(rs *appsv1.ReplicaSet, name string, ready bool, cs corev1.ContainerStatus) *corev1.Pod {
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	cs.Name = "app"
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: rs.Namespace, Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}},
		Status: corev1.PodStatus{
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: cond}},
			ContainerStatuses: []corev1.ContainerStatus{cs},
		},
	}
}

func waiting(reason, msg string) corev1.ContainerStatus {
	return corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
}

func TestPodFailureOf(t *testing.T) {
	d := deployment("app:v1")
	rs := replicaSet(d, 1, "app:v1", "")
	crash := waiting("CrashLoopBackOff", "back-off 10s restarting failed container")
	crash.RestartCount = 2
	crash.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, Message: "panic: boom"}
	oomNow := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}}}
	oomLoop := waiting("CrashLoopBackOff", "back-off")
	oomLoop.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137}
	tests := []struct {
		name string
		cs   corev1.ContainerStatus
		want string // "" = no failure
	}{
		{"crash loop", crash, "pod web-1 container app: CrashLoopBackOff: back-off 10s restarting failed container; last exit: Error (exit code 1): panic: boom (restarts 2)"},
		{"image pull backoff", waiting("ImagePullBackOff", `Back-off pulling image "app:nope"`), "ImagePullBackOff"},
		{"err image pull", waiting("ErrImagePull", "not found"), "ErrImagePull: not found"},
		{"config error", waiting("CreateContainerConfigError", `configmap "cfg" not found`), `CreateContainerConfigError: configmap "cfg" not found`},
		{"oom killed now", oomNow, "OOMKilled: last exit: OOMKilled (exit code 137)"},
		{"oom then crash loop", oomLoop, "OOMKilled (CrashLoopBackOff)"},
		{"container creating is not a failure", waiting("ContainerCreating", ""), ""},
		{"running", corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := PodFailureOf(pod(&rs, "web-1", false, tt.cs))
			switch {
			case tt.want == "" && f != nil:
				t.Errorf("failure = %v, want none", f)
			case tt.want != "" && (f == nil || !strings.Contains(f.String(), tt.want)):
				t.Errorf("failure = %v, want %q", f, tt.want)
			}
		})
	}
}

func TestEvaluateRollout(t *testing.T) {
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	tests := []struct {
		name     string
		mutate   func(d *appsv1.Deployment)
		ready    []bool
		other    bool // add a crashing pod of another ReplicaSet
		complete bool
		deadline bool
		line     string
	}{
		{name: "complete", ready: []bool{true, true, true}, complete: true, line: "3/3 updated, 3/3 ready, 3/3 available"},
		{name: "a pod not ready", ready: []bool{true, true, false}},
		{name: "old generation not observed", mutate: func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 3 }, ready: []bool{true, true, true}},
		{name: "old replicas left", mutate: func(d *appsv1.Deployment) { d.Status.Replicas = 4 }, ready: []bool{true, true, true}, line: "1 old replica left"},
		{name: "crashing pod of the old revision is ignored", ready: []bool{true, true, true}, other: true, complete: true},
		{name: "progress deadline", mutate: func(d *appsv1.Deployment) {
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}}
		}, ready: []bool{true}, deadline: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := deployment("app:v2")
			if tt.mutate != nil {
				tt.mutate(d)
			}
			rs := replicaSet(d, 2, "app:v2", "")
			old := replicaSet(d, 1, "app:crash", "")
			var pods []*corev1.Pod
			for i, r := range tt.ready {
				pods = append(pods, pod(&rs, "web-"+string(rune('a'+i)), r, running))
			}
			if tt.other {
				pods = append(pods, pod(&old, "web-old", false, waiting("CrashLoopBackOff", "")))
			}
			p := EvaluateRollout(d, &rs, pods)
			if p.Complete != tt.complete || p.DeadlineExceeded != tt.deadline || p.Failure != nil {
				t.Errorf("complete=%t deadline=%t failure=%v, want complete=%t deadline=%t", p.Complete, p.DeadlineExceeded, p.Failure, tt.complete, tt.deadline)
			}
			if tt.line != "" && !strings.Contains(p.String(), tt.line) {
				t.Errorf("progress %q lacks %q", p, tt.line)
			}
		})
	}
}
