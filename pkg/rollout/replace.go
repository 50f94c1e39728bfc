package rollout

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vibestack/rollback/pkg/progress"
)

// Why an undo replaced a pod.
const (
	// ReplacedStuck: an OrderedReady StatefulSet's controller waited for
	// the failing pod of another revision instead of replacing it
	// (kubernetes/kubernetes#67250).
	ReplacedStuck = "stuck"
	// ReplacedOnDelete: the OnDelete strategy replaces a pod only when it is
	// deleted, and the undo was asked to (--replace-pods).
	ReplacedOnDelete = "on-delete"
)

// PodReplacement is one pod an undo deleted so that its controller
// recreates it at the target revision.
type PodReplacement struct {
	Pod string    `json:"pod"`
	UID types.UID `json:"uid"`
	// Why is ReplacedStuck or ReplacedOnDelete.
	Why string `json:"why"`
	// Failure is why the pod failed when it was deleted, if it did.
	Failure string    `json:"failure,omitempty"`
	At      time.Time `json:"at"`
}

// Line describes the replacement in one line.
func (r PodReplacement) Line() string {
	s := fmt.Sprintf("pod %s (uid %s)", r.Pod, r.UID)
	if r.Failure != "" {
		s += ": " + r.Failure
	}
	return s
}

// replace deletes a pod the workload's controller will not replace by
// itself: the failing pod an OrderedReady StatefulSet waits for (with
// replaceStuck), else the next pod an OnDelete strategy keeps at an older
// revision (with replacePods). It deletes at most one pod at a time: none
// while a pod is terminating, a pod of the target revision is not Ready,
// or the pod it deleted last is still there. The deletion carries the
// pod's UID and resourceVersion as preconditions, so a pod that changed
// since it was judged (became Ready, was replaced) is not deleted; a
// failing pod it may delete is never Ready.
func (m *monitor) replace(ctx context.Context, t *tracked, o object, pods []*corev1.Pod, pp podPlan) {
	if pp.busy {
		return
	}
	alive := 0
	for _, p := range pods {
		if t.deleted[p.UID] {
			return // the cache still shows the pod deleted last
		}
		if p.DeletionTimestamp == nil && metav1.IsControlledBy(p, o.meta()) {
			alive++
		}
	}
	if alive < t.alive {
		return // the pod deleted last has not come back yet
	}
	var pod *corev1.Pod
	rec := PodReplacement{}
	switch {
	case m.replaceStuck && pp.stuck != nil:
		pod, rec.Why, rec.Failure = pp.stuck, ReplacedStuck, pp.stuckWhy.Reason
	case m.replacePods && len(pp.replace) > 0:
		pod, rec.Why = pp.replace[0], ReplacedOnDelete
		if f := PodFailureOf(pod); f != nil {
			rec.Failure = f.Reason
		}
	default:
		return
	}
	if rec.Why == ReplacedStuck && PodReady(pod) {
		return
	}
	rec.Pod, rec.UID, rec.At = pod.Name, pod.UID, m.clock.Now()
	uid, rv := pod.UID, pod.ResourceVersion
	err := m.clients.Pods.Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	switch {
	case apierrors.IsConflict(err):
		return // it changed since the cache showed it: judge it again
	case apierrors.IsNotFound(err):
		return // gone already
	case err != nil:
		if t.deleted == nil {
			t.deleted = map[types.UID]bool{}
		}
		t.deleted[uid] = true
		w := fmt.Sprintf("could not delete pod %s: %v", pod.Name, err)
		t.res.Warnings = append(t.res.Warnings, w)
		m.emit(progress.Warning, t, "warning: "+w, nil)
		return
	}
	if t.deleted == nil {
		t.deleted = map[types.UID]bool{}
	}
	t.deleted[uid] = true
	t.alive = alive
	t.res.Replaced = append(t.res.Replaced, rec)
	var msg string
	if rec.Why == ReplacedStuck {
		msg = fmt.Sprintf("%s: deleted pod %s (uid %s, %s) of another revision, which the OrderedReady controller waited for instead of replacing it (kubernetes/kubernetes#67250); it comes back at revision %d",
			t.w.Arg(), pod.Name, uid, rec.Failure, t.res.Revision)
	} else {
		msg = fmt.Sprintf("%s: deleted pod %s (uid %s) of another revision for the OnDelete strategy (--replace-pods, %d left after it); it comes back at revision %d, and the next waits until it is Ready",
			t.w.Arg(), pod.Name, uid, len(pp.replace)-1, t.res.Revision)
	}
	m.emit(progress.Written, t, msg, rec)
}
