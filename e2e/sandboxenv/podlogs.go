package sandboxenv

import (
	"context"
	"fmt"
	"io"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodLogs reads a container's log through the apiserver's pods/log, which
// the apiserver fetches from the simulated kubelet of the pod's node, as
// `kubectl logs` does. opts may be nil; opts.Container may be empty for a
// pod with one container; opts.Follow is refused (it would not return).
// What each container writes follows its mode (see the sandbox's docs); a
// container that never started (pull error, missing configuration) has no
// log, and the error is the kubelet's ("... is waiting to start: ...").
func (sb *Sandbox) PodLogs(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (string, error) {
	if opts == nil {
		opts = &corev1.PodLogOptions{}
	}
	if opts.Follow {
		return "", fmt.Errorf("logs of pod %s/%s: PodLogs does not follow; use Clientset.CoreV1().Pods(ns).GetLogs(pod, opts).Stream", namespace, pod)
	}
	// Stream, unlike DoRaw, keeps the kubelet's reason in the error.
	rc, err := sb.Clientset.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, pod, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, pod, err)
	}
	return string(data), nil
}

// Pods returns the pods of namespace matching the label selector (say
// "app=db"), sorted by name, terminating ones included.
func (sb *Sandbox) Pods(t testing.TB, namespace, selector string) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fixtureTimeout)
	defer cancel()
	list, err := sb.Clientset.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list pods %s in %s: %v", selector, namespace, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items
}
