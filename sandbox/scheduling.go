package sandbox

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// unschedulable is why no node can take a pod, worded like the scheduler's
// PodScheduled=False message.
type unschedulable struct{ message string }

// fitNodes returns the nodes pod may be bound to, in name order: those its
// nodeSelector and required node affinity select (a DaemonSet pod names its
// node with matchFields metadata.name), whose NoSchedule and NoExecute
// taints it tolerates, and which are not cordoned unless it tolerates that.
// Pods whose PersistentVolumeClaims are missing or not Bound fit nowhere
// yet, as with the scheduler's volume binding for Immediate claims.
func fitNodes(pod *corev1.Pod, nodes []*corev1.Node, claim func(name string) (*corev1.PersistentVolumeClaim, error)) ([]string, *unschedulable) {
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := claim(v.PersistentVolumeClaim.ClaimName)
		switch {
		case apierrors.IsNotFound(err):
			return nil, &unschedulable{fmt.Sprintf("0/%d nodes are available: persistentvolumeclaim %q not found.", len(nodes), v.PersistentVolumeClaim.ClaimName)}
		case err != nil:
			return nil, &unschedulable{err.Error()}
		case pvc.DeletionTimestamp != nil:
			return nil, &unschedulable{fmt.Sprintf("0/%d nodes are available: persistentvolumeclaim %q is being deleted.", len(nodes), pvc.Name)}
		case pvc.Status.Phase != corev1.ClaimBound:
			return nil, &unschedulable{fmt.Sprintf("0/%d nodes are available: pod has unbound immediate PersistentVolumeClaims.", len(nodes))}
		}
	}
	affinity := nodeaffinity.GetRequiredNodeAffinity(pod)
	reasons := map[string]int{}
	var fit []string
	for _, node := range nodes {
		if ok, err := affinity.Match(node); err != nil || !ok {
			reasons["didn't match Pod's node affinity/selector"]++
			continue
		}
		if taint, found := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
		}, false); found {
			reasons[fmt.Sprintf("had untolerated taint {%s: %s}", taint.Key, taint.Value)]++
			continue
		}
		if node.Spec.Unschedulable && !tolerates(pod, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
			reasons["were unschedulable"]++
			continue
		}
		fit = append(fit, node.Name)
	}
	if len(fit) == 0 {
		parts := make([]string, 0, len(reasons))
		for r, n := range reasons {
			parts = append(parts, fmt.Sprintf("%d node(s) %s", n, r))
		}
		sort.Strings(parts)
		return nil, &unschedulable{fmt.Sprintf("0/%d nodes are available: %s.", len(nodes), strings.Join(parts, ", "))}
	}
	sort.Strings(fit)
	return fit, nil
}

func tolerates(pod *corev1.Pod, taint corev1.Taint) bool {
	return corev1helpers.TolerationsTolerateTaint(klog.Background(), pod.Spec.Tolerations, &taint, false)
}
