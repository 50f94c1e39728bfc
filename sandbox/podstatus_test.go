package sandbox

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// simulate steps a one-container pod through the given offsets from start.
func simulate(t *testing.T, image string, readyDelay time.Duration, offsets ...time.Duration) []corev1.PodStatus {
	t.Helper()
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}
	pod.UID = "uid"
	resolve := func(c corev1.Container) (Mode, error) { return ParseMode(ImageTag(c.Image)), nil }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := &podSim{}
	var out []corev1.PodStatus
	for _, off := range offsets {
		st, _ := ps.step(pod, resolve, readyDelay, "10.1.0.1", "10.244.0.2", start.Add(off))
		pod.Status = st
		out = append(out, st)
	}
	return out
}

func TestStepReadyAfterDelay(t *testing.T) {
	got := simulate(t, "a:v1", 200*time.Millisecond, 0, 100*time.Millisecond, 200*time.Millisecond)
	want := []bool{false, false, true}
	for i, st := range got {
		if st.Phase != corev1.PodRunning || st.ContainerStatuses[0].Ready != want[i] {
			t.Errorf("step %d: phase %s ready %v, want Running %v", i, st.Phase, st.ContainerStatuses[0].Ready, want[i])
		}
	}
}

func TestStepSlow(t *testing.T) {
	got := simulate(t, "a:slow-2s", 0, 0, 1900*time.Millisecond, 2*time.Second)
	want := []bool{false, false, true}
	for i, st := range got {
		if st.ContainerStatuses[0].Ready != want[i] {
			t.Errorf("step %d: ready %v, want %v", i, st.ContainerStatuses[0].Ready, want[i])
		}
	}
}

func TestStepCrashLoop(t *testing.T) {
	ms := time.Millisecond
	// start; crash at 300ms; back-off 1s; run at 1.3s; crash at 1.6s; back-off 2s.
	got := simulate(t, "a:crash", 0, 0, 300*ms, 1300*ms, 1600*ms, 2000*ms)
	wantRestarts := []int32{0, 1, 1, 2, 2}
	wantState := []string{"running", "CrashLoopBackOff", "running", "CrashLoopBackOff", "CrashLoopBackOff"}
	for i, st := range got {
		cs := st.ContainerStatuses[0]
		state := "running"
		if cs.State.Waiting != nil {
			state = cs.State.Waiting.Reason
		}
		if cs.RestartCount != wantRestarts[i] || state != wantState[i] {
			t.Errorf("step %d: restarts %d state %s, want %d %s", i, cs.RestartCount, state, wantRestarts[i], wantState[i])
		}
		if cs.RestartCount > 0 && (cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1) {
			t.Errorf("step %d: lastState %+v, want terminated with exit code 1", i, cs.LastTerminationState)
		}
		if cs.Ready || st.Phase != corev1.PodRunning {
			t.Errorf("step %d: ready %v phase %s", i, cs.Ready, st.Phase)
		}
	}
}

func TestStepPullError(t *testing.T) {
	got := simulate(t, "a:pull-error", 0, 0, 999*time.Millisecond, time.Second)
	want := []string{"ErrImagePull", "ErrImagePull", "ImagePullBackOff"}
	for i, st := range got {
		if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != want[i] || st.Phase != corev1.PodPending {
			t.Errorf("step %d: phase %s waiting %+v, want Pending %s", i, st.Phase, w, want[i])
		}
	}
}

func TestStatusChangedIgnoresSubsecond(t *testing.T) {
	got := simulate(t, "a:v1", 0, 0, 10*time.Millisecond)
	if statusChanged(got[0], got[1]) {
		t.Error("a second step with nothing new reported a change")
	}
}
