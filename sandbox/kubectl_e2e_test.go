//go:build e2e

package sandbox_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKubectlDrivesSandbox checks that the installed kubectl (1.32) can
// roll Deployments out, back and restart them on the sandbox.
func TestKubectlDrivesSandbox(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
	ns := namespace(t)
	kubectl(t, "-n", ns, "create", "deployment", "web", "--image=example/web:v1", "--replicas=3")
	kubectl(t, "-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
	for _, v := range []string{"v2", "v3"} {
		kubectl(t, "-n", ns, "set", "image", "deployment/web", "web=example/web:"+v)
		kubectl(t, "-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
	}
	history := kubectl(t, "-n", ns, "rollout", "history", "deployment/web")
	for _, rev := range []string{"1", "2", "3"} {
		if !strings.Contains(history, "\n"+rev+" ") {
			t.Errorf("history lacks revision %s:\n%s", rev, history)
		}
	}

	kubectl(t, "-n", ns, "rollout", "undo", "deployment/web", "--to-revision=1")
	out := kubectl(t, "-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Errorf("rollout status after undo: %s", out)
	}
	ctx := testContext(t)
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "example/web:v1" {
		t.Errorf("image after undo --to-revision=1 is %s, want example/web:v1", img)
	}
	if rev := d.Annotations["deployment.kubernetes.io/revision"]; rev != "4" {
		t.Errorf("revision after undo is %s, want 4 (revision 1 renumbered)", rev)
	}

	kubectl(t, "-n", ns, "rollout", "restart", "deployment/web")
	kubectl(t, "-n", ns, "rollout", "status", "deployment/web", "--timeout=60s")
	d, err = sb.Clientset.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rev := d.Annotations["deployment.kubernetes.io/revision"]; rev != "5" {
		t.Errorf("revision after restart is %s, want 5", rev)
	}
	if d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Error("restart did not stamp kubectl.kubernetes.io/restartedAt")
	}
}
