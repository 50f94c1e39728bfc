package sandbox

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// The simulated nodes: sandbox-node-1 ... sandbox-node-N, Ready and
// schedulable, and one more, TaintedNodeName, Ready but tainted with
// TaintKey=true:NoSchedule, so that only pods tolerating the taint run there
// (a DaemonSet without the toleration skips it: a node that cannot run the
// pod).
const (
	// TaintedNodeName names the tainted node.
	TaintedNodeName = "sandbox-node-tainted"
	// TaintKey is the key of the tainted node's NoSchedule taint.
	TaintKey = "sandbox.rollback.dev/tainted"
	// NodeIP is every simulated node's InternalIP: their kubelets listen on
	// it, each on its own port (status.daemonEndpoints.kubeletEndpoint).
	NodeIP = "127.0.0.1"
)

// nodeNames returns the names of n schedulable nodes and the tainted one.
func nodeNames(n int) []string {
	names := make([]string, 0, n+1)
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("sandbox-node-%d", i))
	}
	return append(names, TaintedNodeName)
}

// ensureNode creates (or refreshes, after a restart on the same state) a
// Ready node whose kubelet listens on NodeIP:kubeletPort.
func ensureNode(ctx context.Context, s *simulator, name string, kubeletPort int) error {
	var taints []corev1.Taint
	if name == TaintedNodeName {
		taints = []corev1.Taint{{Key: TaintKey, Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	}
	labels := map[string]string{
		"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "sandbox": "true",
	}
	nodes := s.client.CoreV1().Nodes()
	_, err := nodes.Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create node %s: %w", name, err)
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get node %s: %w", name, err)
		}
		// The apiserver taints a new node not-ready (TaintNodesByCondition);
		// the node-lifecycle controller, which would lift that taint once
		// the node is Ready, does not run here.
		if !apiequality.Semantic.DeepEqual(node.Spec.Taints, taints) {
			node.Spec.Taints = taints
			if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("set taints of node %s: %w", name, err)
			}
		}
		node.Status = nodeStatus(name, kubeletPort)
		if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("mark node %s Ready: %w", name, err)
		}
		return nil
	})
}

func nodeStatus(name string, kubeletPort int) corev1.NodeStatus {
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("8"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	st := corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: NodeIP},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(kubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.37.2-sandbox", OperatingSystem: "linux", Architecture: "amd64", KernelVersion: "sandbox",
			ContainerRuntimeVersion: "sandbox://1.0", OSImage: "rollback-sandbox",
		},
	}
	for _, c := range []struct {
		t      corev1.NodeConditionType
		status corev1.ConditionStatus
		reason string
	}{
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"},
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"},
	} {
		st.Conditions = append(st.Conditions, corev1.NodeCondition{
			Type: c.t, Status: c.status, Reason: c.reason, LastHeartbeatTime: now, LastTransitionTime: now,
		})
	}
	return st
}
