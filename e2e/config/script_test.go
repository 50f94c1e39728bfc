//go:build e2e

package config_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestScriptWrapper runs scripts/rollback_config_k8s.sh, the runbook's
// script, against the built binary ($ROLLBACK_BIN, set by the Makefile).
func TestScriptWrapper(t *testing.T) {
	bin := os.Getenv("ROLLBACK_BIN")
	if bin == "" {
		t.Skip("ROLLBACK_BIN is not set: run through `make test`, or set it to a built rollback binary")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("ROLLBACK_BIN %s: %v (run make build)", bin, err)
	}
	ns := sb.Namespace(t)
	versionedApp(t, ns)
	script, err := filepath.Abs("../../scripts/rollback_config_k8s.sh")
	must(t, err)
	cmd := exec.CommandContext(ctxT(t), "bash", script, "web", "app-config", "v1", ns, "--settle", "1s", "--timeout", "60s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+sb.Kubeconfig, "ROLLBACK_BIN="+bin)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("script: %v", err)
	}
	if !strings.Contains(string(out), "rolled-back") {
		t.Errorf("script output lacks the verdict")
	}
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(ctxT(t), "web", metav1.GetOptions{})
	must(t, err)
	if got := d.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name; got != "app-config-v1" {
		t.Errorf("envFrom after the script = %s, want app-config-v1", got)
	}
	usage := exec.Command("bash", script, "web")
	if out, err := usage.CombinedOutput(); err == nil || !strings.Contains(string(out), "usage:") {
		t.Errorf("script with one argument: %v, %s; want a usage error", err, out)
	}
}
