package sandbox

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// logOf returns the whole log of a run, "" when there is none.
func logOf(ps *podSim, id string) string {
	l := ps.logs[id]
	if l == nil {
		return ""
	}
	var b strings.Builder
	_ = l.copyTo(context.Background(), &b, func() {}, logQuery{tailLines: -1, stdout: true, stderr: true})
	return b.String()
}

func TestLogsFollowTheMode(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		image   string
		offsets []time.Duration
		want    []string // substrings of the current run's log, in order
		absent  []string
	}{
		{"a:v1", []time.Duration{0, 200 * ms}, []string{`msg="starting"`, "listening", "ready to serve"}, []string{"panic"}},
		{"a:crash", []time.Duration{0, 300 * ms}, []string{`msg="starting"`, "loading configuration", "panic: sandbox mode crash", "goroutine 1 [running]"}, []string{"ready to serve"}},
		{"a:oom", []time.Duration{0, 300 * ms}, []string{"loading cache"}, []string{"panic"}},
		{"a:unready", []time.Duration{0, time.Second}, []string{"readiness check failing"}, []string{"ready to serve"}},
		{"a:slow-1s", []time.Duration{0, 500 * ms}, []string{"warming up"}, []string{"ready to serve"}},
		{"a:slow-1s", []time.Duration{0, time.Second}, []string{"warming up", "ready to serve"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.image+"/"+tt.offsets[len(tt.offsets)-1].String(), func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: tt.image}}}}
			pod.UID = "uid"
			ps := &podSim{}
			resolve := func(c corev1.Container) (Mode, error) { return ParseMode(ImageTag(c.Image)), nil }
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, off := range tt.offsets {
				pod.Status, _ = ps.step(pod, resolve, 200*ms, NodeIP, "10.244.0.2", start.Add(off))
			}
			id, err := logContainerID(pod, "app", false)
			if err != nil {
				t.Fatal(err)
			}
			log := logOf(ps, id)
			rest := log
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("log lacks %q (in order):\n%s", w, log)
				}
				rest = rest[i+len(w):]
			}
			for _, a := range tt.absent {
				if strings.Contains(log, a) {
					t.Errorf("log has %q:\n%s", a, log)
				}
			}
		})
	}
}

func TestLogsOfRestarts(t *testing.T) {
	ms := time.Millisecond
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "a:crash"}}}}
	pod.UID = "uid"
	ps := &podSim{}
	resolve := func(c corev1.Container) (Mode, error) { return ParseMode(ImageTag(c.Image)), nil }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// start; crash at 300ms; run again at 1.3s; crash at 1.6s; run again at 3.6s.
	for _, off := range []time.Duration{0, 300 * ms, 1300 * ms, 1600 * ms, 3600 * ms} {
		pod.Status, _ = ps.step(pod, resolve, 0, NodeIP, "10.244.0.2", start.Add(off))
	}
	cur, err := logContainerID(pod, "app", false)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := logContainerID(pod, "app", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := logOf(ps, cur); !strings.Contains(got, "attempt=2") || strings.Contains(got, "panic") {
		t.Errorf("current run (%s) log:\n%s\nwant the third run, not crashed yet", cur, got)
	}
	if got := logOf(ps, prev); !strings.Contains(got, "attempt=1") || !strings.Contains(got, "panic") {
		t.Errorf("previous run (%s) log:\n%s\nwant the second run's crash", prev, got)
	}
	if len(ps.logs) != 2 {
		t.Errorf("kept %d logs, want the current and the previous run only", len(ps.logs))
	}
}

func TestNoLogsBeforeStart(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "a:v1"}}}}
	pod.Name, pod.UID = "web", "uid"
	ps := &podSim{}
	resolve := func(c corev1.Container) (Mode, error) {
		return Mode{}, &ContainerConfigError{Message: `configmap "cfg" not found`}
	}
	pod.Status, _ = ps.step(pod, resolve, 0, NodeIP, "10.244.0.2", time.Now())
	_, err := logContainerID(pod, "app", false)
	if err == nil || err.Error() != `container "app" in pod "web" is waiting to start: CreateContainerConfigError` {
		t.Errorf("error %v", err)
	}
	if len(ps.logs) != 0 {
		t.Errorf("a container that never started has %d logs", len(ps.logs))
	}
}

func TestTerminateStopsAfterStopTime(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "a:v1"}}}}
	pod.UID = "uid"
	ps := &podSim{}
	resolve := func(c corev1.Container) (Mode, error) { return ParseMode(ImageTag(c.Image)), nil }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod.Status, _ = ps.step(pod, resolve, 0, NodeIP, "10.244.0.2", start)
	if left := ps.terminate(pod, start.Add(time.Second)); left != stopTime {
		t.Errorf("left %s, want %s", left, stopTime)
	}
	if left := ps.terminate(pod, start.Add(time.Second+stopTime)); left > 0 {
		t.Errorf("left %s after stopTime", left)
	}
	id, _ := logContainerID(pod, "app", false)
	if got := logOf(ps, id); strings.Count(got, "received SIGTERM") != 1 {
		t.Errorf("log:\n%s\nwant one SIGTERM line", got)
	}
	zero := int64(0)
	pod.DeletionGracePeriodSeconds = &zero
	if left := (&podSim{}).terminate(pod, start); left != 0 {
		t.Errorf("grace period 0: left %s", left)
	}
}
