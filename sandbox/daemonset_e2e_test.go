//go:build e2e

package sandbox_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/sandbox"
)

// affinityNode is the node a DaemonSet pod's required node affinity names.
func affinityNode(p corev1.Pod) string {
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

// TestDaemonSetNodes checks that the real daemonset controller runs one pod
// per node that can take it, that each pod is bound to the node its affinity
// names, and that the tainted node is skipped unless tolerated.
func TestDaemonSetNodes(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	ctx := testContext(t)
	everywhere := daemonSet(ns, "everywhere", "example/agent:v1")
	everywhere.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: sandbox.TaintKey, Operator: corev1.TolerationOpExists}}
	for _, ds := range []*appsv1.DaemonSet{daemonSet(ns, "agent", "example/agent:v1"), everywhere} {
		if _, err := sb.Clientset.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := sb.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all, schedulable []string
	for _, n := range nodes.Items {
		all = append(all, n.Name)
		if n.Name != sandbox.TaintedNodeName {
			schedulable = append(schedulable, n.Name)
		}
	}
	sort.Strings(all)
	if len(schedulable) < 3 {
		t.Fatalf("nodes %v: want at least 3 schedulable ones and %s", all, sandbox.TaintedNodeName)
	}
	for name, want := range map[string][]string{"agent": schedulable, "everywhere": all} {
		out := kubectl(t, "-n", ns, "rollout", "status", "daemonset/"+name, "--timeout=120s")
		if !strings.Contains(out, "successfully rolled out") {
			t.Errorf("rollout status %s: %s", name, out)
		}
		ds, err := sb.Clientset.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := int(ds.Status.DesiredNumberScheduled); got != len(want) || ds.Status.NumberReady != ds.Status.DesiredNumberScheduled {
			t.Errorf("%s: desired %d, ready %d; want %d", name, got, ds.Status.NumberReady, len(want))
		}
		pods, err := listPods(ctx, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		var on []string
		for _, p := range pods {
			if p.Spec.NodeName != affinityNode(p) {
				t.Errorf("pod %s bound to %q, its affinity names %q", p.Name, p.Spec.NodeName, affinityNode(p))
			}
			on = append(on, p.Spec.NodeName)
		}
		sort.Strings(on)
		sort.Strings(want)
		if strings.Join(on, ",") != strings.Join(want, ",") {
			t.Errorf("%s runs on %v, want %v", name, on, want)
		}
	}
}

// TestUnschedulablePod checks that a pod no node can take stays Pending
// with the scheduler's condition and Event.
func TestUnschedulablePod(t *testing.T) {
	ns := namespace(t)
	ctx := testContext(t)
	p := pod(ns, "nowhere", "example/app:v1", nil, nil)
	p.Spec.NodeName = ""
	p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": sandbox.TaintedNodeName}
	if _, err := sb.Clientset.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPod(t, ns, "nowhere", 60*time.Second, func(p *corev1.Pod) error {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return nil
			}
		}
		return errString("not marked unschedulable")
	})
	if got.Spec.NodeName != "" || got.Status.Phase != corev1.PodPending {
		t.Errorf("node %q phase %s", got.Spec.NodeName, got.Status.Phase)
	}
	eventually(t, 30*time.Second, "FailedScheduling event", func(ctx context.Context) (bool, error) {
		evs, err := sb.Clientset.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=nowhere,reason=FailedScheduling"})
		if err != nil || len(evs.Items) == 0 {
			return false, err
		}
		return strings.Contains(evs.Items[0].Message, "untolerated taint {"+sandbox.TaintKey+": true}"), nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// TestKubectlRolloutDaemonSet checks kubectl's own rollout history, undo
// and status on a DaemonSet, an undo from a crash-looping release, and that
// status refuses OnDelete.
func TestKubectlRolloutDaemonSet(t *testing.T) {
	needKubectl(t)
	ns := namespace(t)
	ctx := testContext(t)
	if _, err := sb.Clientset.AppsV1().DaemonSets(ns).Create(ctx, daemonSet(ns, "agent", "example/agent:v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectl(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=120s")
	kubectl(t, "-n", ns, "set", "image", "daemonset/agent", "app=example/agent:v2")
	kubectl(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=120s")
	kubectl(t, "-n", ns, "set", "image", "daemonset/agent", "app=example/agent:crash-v3")
	out := kubectlFails(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=5s")
	if !strings.Contains(out, "Waiting for daemon set \"agent\" rollout to finish") {
		t.Errorf("rollout status of a crash-looping release: %s", out)
	}
	history := kubectl(t, "-n", ns, "rollout", "history", "daemonset/agent")
	for _, rev := range []string{"1", "2", "3"} {
		if !strings.Contains(history, "\n"+rev+" ") {
			t.Errorf("history lacks revision %s:\n%s", rev, history)
		}
	}
	kubectl(t, "-n", ns, "rollout", "undo", "daemonset/agent")
	kubectl(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=120s")
	eventually(t, 60*time.Second, "every agent pod back at v2", func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, ns, "agent")
		if err != nil {
			return false, err
		}
		n := 0
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			if p.Spec.Containers[0].Image != "example/agent:v2" || readySince(p) == nil {
				return false, nil
			}
			n++
		}
		return n == 3, nil
	})

	kubectl(t, "-n", ns, "patch", "daemonset/agent", "--type=merge", "-p", `{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}`)
	out = kubectlFails(t, "-n", ns, "rollout", "status", "daemonset/agent", "--timeout=10s")
	if !strings.Contains(out, "rollout status is only available for RollingUpdate strategy type") {
		t.Errorf("rollout status on OnDelete: %s", out)
	}
}
