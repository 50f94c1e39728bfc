package sandbox

import (
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Timings of the simulated container lifecycle.
const (
	crashRunTime    = 300 * time.Millisecond // a crashing container runs this long
	stopTime        = 200 * time.Millisecond // a deleted pod's containers take this long to stop
	maxCrashBackoff = 5 * time.Second        // back-off after the n-th crash is min(n s, this)
	pullBackoffTime = time.Second            // ErrImagePull turns into ImagePullBackOff after this
)

// podSim is the simulator's memory of one pod, precise to the nanosecond
// (status timestamps are rounded to seconds by the API). mu guards it:
// step runs under it, and the kubelet and endpoint servers read under it.
type podSim struct {
	mu         sync.Mutex
	uid        string
	start      time.Time
	containers map[string]*containerSim
	// logs holds the logs of the current and the previous run of each
	// container, by container ID.
	logs map[string]*containerLog
	// stopAt is when the containers of a deleted pod have stopped.
	stopAt time.Time
}

// terminate stops the containers of a pod being deleted, as a kubelet does
// before it removes the pod: they log the signal, and stop after stopTime
// (or the pod's shorter grace period). It returns how long is left.
func (ps *podSim) terminate(pod *corev1.Pod, now time.Time) time.Duration {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.stopAt.IsZero() {
		wait := stopTime
		if g := pod.DeletionGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < wait {
			wait = time.Duration(*g) * time.Second
		}
		ps.stopAt = now.Add(wait)
		for _, cs := range ps.containers {
			if cs.running && cs.log != nil {
				cs.log.write(now, false, `level=info msg="received SIGTERM, shutting down"`)
			}
		}
	}
	return ps.stopAt.Sub(now)
}

type containerSim struct {
	id        string // container ID prefix
	mode      Mode
	configErr string // non-empty: CreateContainerConfigError, mode unresolved
	running   bool
	startedAt time.Time
	restarts  int32
	lastStart time.Time
	lastEnd   time.Time

	log         *containerLog // the current run's log; nil before the first start
	readyLogged bool
}

// resolver gives a container's mode, or a *ContainerConfigError.
type resolver func(c corev1.Container) (Mode, error)

// step advances the simulated containers of pod to now and returns the pod
// status they imply, and after how long the status changes next (0: never,
// unless the pod changes).
func (ps *podSim) step(pod *corev1.Pod, resolve resolver, readyDelay time.Duration, hostIP, podIP string, now time.Time) (corev1.PodStatus, time.Duration) {
	if ps.start.IsZero() {
		ps.start = now
	}
	if ps.containers == nil {
		ps.containers = map[string]*containerSim{}
	}
	if ps.logs == nil {
		ps.logs = map[string]*containerLog{}
	}
	next := time.Duration(0)
	wake := func(at time.Time) {
		if d := at.Sub(now); d > 0 && (next == 0 || d < next) {
			next = d
		}
	}

	status := *pod.Status.DeepCopy()
	status.HostIP = hostIP
	status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	status.PodIP = podIP
	status.PodIPs = []corev1.PodIP{{IP: podIP}}
	if status.StartTime == nil {
		t := metav1.NewTime(ps.start)
		status.StartTime = &t
	}
	status.Reason, status.Message = "", ""

	allReady, pending := true, false
	var statuses []corev1.ContainerStatus
	for _, c := range pod.Spec.Containers {
		cs := ps.containers[c.Name]
		if cs == nil || cs.configErr != "" {
			mode, err := resolve(c)
			cs = &containerSim{mode: mode, id: fmt.Sprintf("sandbox://%s-%s", pod.UID, c.Name)}
			if err != nil {
				cs.configErr = err.Error()
			}
			ps.containers[c.Name] = cs
		}
		st, ready, waitingOnly := ps.advance(cs, c, readyDelay, now, wake)
		if !ready {
			allReady = false
		}
		if waitingOnly {
			pending = true
		}
		statuses = append(statuses, st)
	}
	status.ContainerStatuses = statuses
	status.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		if id := containerID(pod, c.Name, 0); ps.logs[id] == nil {
			ps.logs[id] = initLog(c, ps.start)
		}
		started := false
		status.InitContainerStatuses = append(status.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Ready: true, Started: &started,
			ContainerID: containerID(pod, c.Name, 0),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Completed", StartedAt: metav1.NewTime(ps.start), FinishedAt: metav1.NewTime(ps.start),
				ContainerID: containerID(pod, c.Name, 0),
			}},
		})
	}

	status.Phase = corev1.PodRunning
	if pending {
		status.Phase = corev1.PodPending
	}
	conds := []corev1.PodCondition{
		{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: condStatus(allReady)},
		{Type: corev1.ContainersReady, Status: condStatus(allReady)},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
	for i := range conds {
		if !allReady && (conds[i].Type == corev1.PodReady || conds[i].Type == corev1.ContainersReady) {
			conds[i].Reason = "ContainersNotReady"
			conds[i].Message = "containers with unready status: " + unreadyNames(statuses)
		}
		conds[i].LastTransitionTime = metav1.NewTime(now)
		for _, old := range pod.Status.Conditions {
			if old.Type == conds[i].Type && old.Status == conds[i].Status {
				conds[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	status.Conditions = conds
	return status, next
}

// advance moves one container along its mode's lifecycle, writing its log,
// and returns its status, whether it is ready, and whether it has never run
// (pod Pending).
func (ps *podSim) advance(cs *containerSim, c corev1.Container, readyDelay time.Duration, now time.Time, wake func(time.Time)) (corev1.ContainerStatus, bool, bool) {
	podStart := ps.start
	f := false
	st := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image), Started: &f}
	if cs.configErr != "" {
		wake(now.Add(time.Second)) // look again: the ConfigMap or Secret may appear
		st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: cs.configErr}
		return st, false, true
	}
	switch cs.mode.Kind {
	case KindPullError:
		st.ImageID = ""
		if now.Before(podStart.Add(pullBackoffTime)) {
			wake(podStart.Add(pullBackoffTime))
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull",
				Message: fmt.Sprintf("failed to pull and unpack image %q: not found (sandbox mode pull-error)", c.Image)}
		} else {
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
				Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: not found (sandbox mode pull-error)", c.Image)}
		}
		return st, false, true
	case KindCrash, KindOOM:
		reason, code := "Error", int32(1)
		if cs.mode.Kind == KindOOM {
			reason, code = "OOMKilled", 137
		}
		switch {
		case !cs.running && cs.restarts == 0 && cs.startedAt.IsZero():
			cs.running, cs.startedAt = true, now
			ps.openRun(cs, c, now)
		case cs.running && !now.Before(cs.startedAt.Add(crashRunTime)):
			cs.running = false
			cs.endRun(c, now)
			cs.restarts++
			cs.lastStart, cs.lastEnd = cs.startedAt, now
		case !cs.running && !now.Before(cs.lastEnd.Add(crashBackoff(cs.restarts))):
			cs.running, cs.startedAt = true, now
			ps.openRun(cs, c, now)
		}
		st.RestartCount = cs.restarts
		st.ContainerID = cs.containerID(cs.restarts)
		if cs.restarts > 0 {
			st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
				Reason: reason, ExitCode: code, StartedAt: metav1.NewTime(cs.lastStart), FinishedAt: metav1.NewTime(cs.lastEnd),
				ContainerID: cs.containerID(cs.restarts - 1),
			}
		}
		if cs.running {
			t := true
			st.Started = &t
			st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(cs.startedAt)}
			wake(cs.startedAt.Add(crashRunTime))
		} else {
			backoff := crashBackoff(cs.restarts)
			st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %s restarting failed container=%s (sandbox mode %s)", backoff, c.Name, cs.mode)}
			wake(cs.lastEnd.Add(backoff))
		}
		return st, false, false
	}
	if cs.startedAt.IsZero() {
		cs.running, cs.startedAt = true, now
		ps.openRun(cs, c, now)
	}
	t := true
	st.Started = &t
	st.ContainerID = cs.containerID(0)
	st.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(cs.startedAt)}
	delay := readyDelay
	switch cs.mode.Kind {
	case KindUnready:
		return st, false, false
	case KindSlow:
		delay = cs.mode.Delay
	}
	readyAt := cs.startedAt.Add(delay)
	if now.Before(readyAt) {
		wake(readyAt)
		return st, false, false
	}
	cs.logReady(readyAt)
	st.Ready = true
	return st, true, false
}

// statusChanged reports whether writing next would change the pod's status.
func statusChanged(old, next corev1.PodStatus) bool {
	return !apiequality.Semantic.DeepEqual(roundTimes(old), roundTimes(next))
}

// roundTimes truncates timestamps to seconds, as the API stores them.
func roundTimes(s corev1.PodStatus) corev1.PodStatus {
	s = *s.DeepCopy()
	r := func(t *metav1.Time) {
		if t != nil {
			*t = t.Rfc3339Copy()
		}
	}
	r(s.StartTime)
	for i := range s.Conditions {
		r(&s.Conditions[i].LastTransitionTime)
		r(&s.Conditions[i].LastProbeTime)
	}
	for _, list := range [][]corev1.ContainerStatus{s.ContainerStatuses, s.InitContainerStatuses} {
		for i := range list {
			for _, st := range []*corev1.ContainerState{&list[i].State, &list[i].LastTerminationState} {
				if st.Running != nil {
					r(&st.Running.StartedAt)
				}
				if st.Terminated != nil {
					r(&st.Terminated.StartedAt)
					r(&st.Terminated.FinishedAt)
				}
			}
		}
	}
	return s
}

func crashBackoff(restarts int32) time.Duration {
	d := time.Duration(restarts) * time.Second
	return min(d, maxCrashBackoff)
}

func condStatus(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func unreadyNames(statuses []corev1.ContainerStatus) string {
	s := "["
	first := true
	for _, st := range statuses {
		if !st.Ready {
			if !first {
				s += " "
			}
			s += st.Name
			first = false
		}
	}
	return s + "]"
}

func imageID(image string) string { return "sandbox://" + image }

func (cs *containerSim) containerID(restarts int32) string {
	return fmt.Sprintf("%s-%d", cs.id, restarts)
}

func containerID(pod *corev1.Pod, name string, restarts int32) string {
	return fmt.Sprintf("sandbox://%s-%s-%d", pod.UID, name, restarts)
}
