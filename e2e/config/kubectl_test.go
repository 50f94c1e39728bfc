//go:build e2e

package config_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubectlRolloutUndoKeepsBadConfig documents why `rollback config`
// exists: `kubectl rollout undo` puts the previous pod template back, but
// the ConfigMap keeps its bad contents, so the pods still crash.
func TestKubectlRolloutUndoKeepsBadConfig(t *testing.T) {
	kubectl := "/usr/bin/kubectl"
	if _, err := exec.LookPath(kubectl); err != nil {
		t.Skipf("kubectl not installed at %s", kubectl)
	}
	ns := sb.Namespace(t)
	cs := sb.Clientset
	settingsApp(t, ns)
	// Recreate, so that going back to revision 1 starts new pods, which read
	// the ConfigMap as it is now.
	d, err := cs.AppsV1().Deployments(ns).Get(ctxT(t), "web", metav1.GetOptions{})
	must(t, err)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	_, err = cs.AppsV1().Deployments(ns).Update(ctxT(t), d, metav1.UpdateOptions{})
	must(t, err)
	if r := rollback(t, ns, "config", "snapshot", "web"); r.Code != 0 {
		t.Fatalf("snapshot: exit %d", r.Code)
	}
	breakSettings(t, ns) // revision 2: restarted with SANDBOX_MODE=crash

	out, err := exec.CommandContext(ctxT(t), kubectl, "--kubeconfig", sb.Kubeconfig, "-n", ns,
		"rollout", "undo", "deployment/web").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl rollout undo: %v\n%s", err, out)
	}
	t.Logf("kubectl rollout undo: %s", out)
	c, err := cs.CoreV1().ConfigMaps(ns).Get(ctxT(t), "settings", metav1.GetOptions{})
	must(t, err)
	if c.Data["SANDBOX_MODE"] != "crash" {
		t.Fatalf("kubectl rollout undo changed the ConfigMap: SANDBOX_MODE=%s", c.Data["SANDBOX_MODE"])
	}
	// Revision 3 is revision 1's template, and its new pods crash on the bad config.
	d = waitRevision(t, ns, "web", "3")
	pod := waitCurrentPodFailing(t, ns, d, "CrashLoopBackOff")
	t.Logf("after kubectl rollout undo, pod %s of revision 3 is in CrashLoopBackOff", pod)
	status, _ := exec.CommandContext(ctxT(t), kubectl, "--kubeconfig", sb.Kubeconfig, "-n", ns,
		"rollout", "status", "deployment/web", "--timeout", "3s").CombinedOutput()
	if strings.Contains(string(status), "successfully rolled out") {
		t.Errorf("kubectl rollout status reports success with the bad config: %s", status)
	}

	// rollback config undo brings the configuration back.
	r := rollback(t, ns, "config", "undo", "web", "--config", "settings", "--yes", "--settle", "1s", "--timeout", "60s")
	if r.Code != 0 {
		t.Fatalf("rollback config undo: exit %d", r.Code)
	}
	waitAvailable(t, cs, ns, "web")
}

// waitRevision waits until the deployment controller has observed the
// Deployment's latest change and numbered it rev.
func waitRevision(t *testing.T, ns, name, rev string) *appsv1.Deployment {
	t.Helper()
	ctx := ctxT(t)
	for {
		d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		must(t, err)
		if d.Status.ObservedGeneration >= d.Generation && d.Annotations["deployment.kubernetes.io/revision"] == rev {
			return d
		}
		select {
		case <-ctx.Done():
			t.Fatalf("deployment %s/%s never reached revision %s (at %s)", ns, name, rev, d.Annotations["deployment.kubernetes.io/revision"])
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitCurrentPodFailing waits until a pod of d's current revision fails with reason.
func waitCurrentPodFailing(t *testing.T, ns string, d *appsv1.Deployment, reason string) string {
	t.Helper()
	ctx := ctxT(t)
	for {
		for _, p := range currentPods(t, sb.Clientset, ns, d) {
			for _, c := range p.Status.ContainerStatuses {
				if c.State.Waiting != nil && c.State.Waiting.Reason == reason {
					return p.Name
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no pod of the current revision of %s reached %s", d.Name, reason)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
