package rollout

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podPlan is what the pods of a StatefulSet or DaemonSet need that their
// controller does not do by itself, as one evaluation found it.
type podPlan struct {
	// stuck is a pod of another revision that fails and is not Ready, which
	// an OrderedReady StatefulSet's controller waits for forever instead of
	// replacing it (kubernetes/kubernetes#67250); why is its failure.
	stuck    *corev1.Pod
	stuckWhy *PodFailure
	// replace are the pods of other revisions an OnDelete strategy keeps,
	// in the order to replace them: failing ones first, then the highest
	// ordinal (or name) first.
	replace []*corev1.Pod
	// belowPartition are the pods a partition keeps at another revision.
	belowPartition []*corev1.Pod
	partition      int32
	// busy is true while a pod of the workload is terminating or a pod of
	// the target revision is not Ready: no pod is replaced meanwhile.
	busy bool
}

// evaluate judges the rollout of o's revision src (nil when its
// controller has not recorded it yet) from pods: for a Deployment the pods
// of src's ReplicaSet, for a StatefulSet or DaemonSet every pod it controls.
func evaluate(o object, src *revisionSource, pods []*corev1.Pod) (Progress, podPlan) {
	if o.d != nil {
		var rs *appsv1.ReplicaSet
		if src != nil {
			rs = src.rs
		}
		return EvaluateRollout(o.d, rs, pods), podPlan{}
	}
	return evaluateSet(o, src, pods)
}

// evaluateSet judges a StatefulSet's or DaemonSet's rollout of src: every
// pod the update strategy rolls (all but those below a partition) runs
// src and is Ready, no other pod is left, and the controller counts every
// desired pod ready and available.
func evaluateSet(o object, src *revisionSource, pods []*corev1.Pod) (Progress, podPlan) {
	p := Progress{Desired: o.desired(), Observed: o.observed()}
	pp := podPlan{partition: o.partition()}
	p.Partition = pp.partition
	switch {
	case o.sts != nil:
		p.Ready, p.Available = o.sts.Status.ReadyReplicas, o.sts.Status.AvailableReplicas
	case o.ds != nil:
		p.Ready, p.Available = o.ds.Status.NumberReady, o.ds.Status.NumberAvailable
	}
	var ref RevisionRef
	if src != nil {
		ref = src.ref(o.kind())
	}
	var newReady, rolled int32
	var others []*corev1.Pod
	for _, pod := range pods {
		if !metav1.IsControlledBy(pod, o.meta()) {
			continue
		}
		if pod.DeletionTimestamp != nil {
			pp.busy = true
			continue
		}
		if src != nil && ref.holds(pod) {
			p.Updated++
			if o.sts == nil || ordinal(pod) >= pp.partition {
				rolled++
			}
			if p.Failure == nil {
				p.Failure = PodFailureOf(pod)
			}
			if PodReady(pod) {
				newReady++
			} else {
				pp.busy = true
				if p.NotReady == "" {
					p.NotReady = pod.Name
				}
			}
			continue
		}
		if o.sts != nil && ordinal(pod) < pp.partition {
			pp.belowPartition = append(pp.belowPartition, pod)
			continue
		}
		others = append(others, pod)
	}
	p.OldReplicas = int32(len(others))
	sortForReplacement(others)
	if o.onDelete() {
		pp.replace = others
	}
	if o.orderedReady() && !o.onDelete() {
		for _, pod := range others {
			if f := crashing(pod); f != nil && !PodReady(pod) {
				pp.stuck, pp.stuckWhy = pod, f
				break
			}
		}
	}
	want := p.Desired - pp.partition
	if want < 0 {
		want = 0
	}
	p.Complete = src != nil && p.Observed && rolled >= want && len(others) == 0 &&
		p.Ready >= p.Desired && p.Available >= p.Desired && p.NotReady == ""
	return p, pp
}

// crashing returns why pod fails: PodFailureOf, or, between two crashes of
// a crash loop (its container running again, not Ready), its last exit
// with an error; nil when it does neither.
func crashing(pod *corev1.Pod) *PodFailure {
	if f := PodFailureOf(pod); f != nil {
		return f
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && cs.RestartCount > 0 && !cs.Ready {
			return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: "restarting after " + orUnknown(t.Reason), Message: lastExit(t), Restarts: cs.RestartCount}
		}
	}
	return nil
}

// ordinal returns a StatefulSet pod's ordinal (its pod-index label, else
// the number its name ends with); -1 when it has none.
func ordinal(pod *corev1.Pod) int32 {
	s, ok := pod.Labels[appsv1.PodIndexLabel]
	if !ok {
		i := strings.LastIndex(pod.Name, "-")
		if i < 0 {
			return -1
		}
		s = pod.Name[i+1:]
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return -1
	}
	return int32(n)
}

// sortForReplacement orders pods to replace: failing (or not Ready) ones
// first, as they serve nothing, the lowest ordinal first (an OrderedReady
// controller recreates a pod only once every pod below it is Ready); then
// the Ready ones, the highest ordinal first (the order of the StatefulSet
// controller's rolling update); then by name.
func sortForReplacement(pods []*corev1.Pod) {
	rank := func(p *corev1.Pod) int {
		if PodFailureOf(p) != nil || !PodReady(p) {
			return 0
		}
		return 1
	}
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if oa, ob := ordinal(a), ordinal(b); oa != ob {
			if rank(a) == 0 {
				return oa < ob
			}
			return oa > ob
		}
		return a.Name < b.Name
	})
}

// notes say in words what the update strategy leaves behind.
func (pp podPlan) notes(o object) []string {
	var out []string
	if len(pp.replace) > 0 {
		out = append(out, fmt.Sprintf("update strategy OnDelete: %s %s another revision and %s replaced only when deleted (`rollback app undo %s --replace-pods` replaces them one at a time)",
			podNames(pp.replace), plural(len(pp.replace), "runs", "run"), plural(len(pp.replace), "is", "are"), o.workload().Arg()))
	}
	if len(pp.belowPartition) > 0 {
		out = append(out, fmt.Sprintf("partition %d: %s below the partition %s at another revision (lower the partition to roll %s)",
			pp.partition, podNames(pp.belowPartition), plural(len(pp.belowPartition), "stays", "stay"), plural(len(pp.belowPartition), "it", "them")))
	}
	if pp.stuck != nil {
		out = append(out, fmt.Sprintf("pod %s of another revision fails (%s) and the OrderedReady controller waits for it instead of replacing it (kubernetes/kubernetes#67250); `rollback app undo %s` deletes it so that it comes back at the target revision",
			pp.stuck.Name, pp.stuckWhy.Reason, o.workload().Arg()))
	}
	return out
}

// podNames lists pod names for a sentence: "pod db-2", "pods db-1, db-0".
func podNames(pods []*corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return plural(len(pods), "pod ", "pods ") + strings.Join(names, ", ")
}
