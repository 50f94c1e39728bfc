package sandbox

import (
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestLogContainerID(t *testing.T) {
	term := &corev1.ContainerStateTerminated{ContainerID: "sandbox://old", ExitCode: 1}
	tests := []struct {
		name     string
		st       corev1.ContainerStatus
		previous bool
		want     string
		err      string
	}{
		{name: "running", st: corev1.ContainerStatus{ContainerID: "sandbox://cur", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}, want: "sandbox://cur"},
		{name: "back-off shows the crashed run", st: corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}, LastTerminationState: corev1.ContainerState{Terminated: term}}, want: "sandbox://old"},
		{name: "previous", previous: true, st: corev1.ContainerStatus{ContainerID: "sandbox://cur", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, LastTerminationState: corev1.ContainerState{Terminated: term}}, want: "sandbox://old"},
		{name: "no previous", previous: true, st: corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}, err: `previous terminated container "app" in pod "web" not found`},
		{name: "terminated", st: corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ContainerID: "sandbox://init"}}}, want: "sandbox://init"},
		{name: "pull back-off", st: corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}, err: `container "app" in pod "web" is waiting to start: trying and failing to pull image`},
		{name: "pull error", st: corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}, err: `container "app" in pod "web" is waiting to start: image can't be pulled`},
		{name: "config error", st: corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError"}}}, err: `container "app" in pod "web" is waiting to start: CreateContainerConfigError`},
		{name: "no state", err: `container "app" in pod "web" is waiting to start - no logs yet`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{}
			pod.Name = "web"
			tt.st.Name = "app"
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{tt.st}
			got, err := logContainerID(pod, "app", tt.previous)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := logContainerID(&corev1.Pod{}, "app", false); err == nil {
		t.Error("a container without status has a log")
	}
}

func TestParseLogQuery(t *testing.T) {
	q, err := parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?follow=true&timestamps=true&tailLines=5&limitBytes=100&sinceTime=2026-01-01T00:00:00Z&stream=Stderr", nil))
	if err != nil {
		t.Fatal(err)
	}
	want := logQuery{follow: true, timestamps: true, tailLines: 5, limitBytes: 100, since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), stderr: true}
	if q != want {
		t.Errorf("got %+v, want %+v", q, want)
	}
	q, err = parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?sinceSeconds=10", nil))
	if err != nil || q.tailLines != -1 || !q.stdout || !q.stderr || time.Since(q.since) < 10*time.Second {
		t.Errorf("sinceSeconds: %+v, %v", q, err)
	}
	for _, bad := range []string{"tailLines=x", "follow=maybe", "sinceTime=yesterday", "stream=Both"} {
		if _, err := parseLogQuery(httptest.NewRequest("GET", "/containerLogs/ns/p/c?"+bad, nil)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
