//go:build e2e

package preflight_test

import (
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestClusterFlags: preflight, run and drill reach the runbook's clusters
// with every cluster flag the user gives, exactly like the single commands:
// --as impersonates (the admin acting as the viewer gets the viewer's
// NO-GO), --server and --request-timeout reach the server named.
func TestClusterFlags(t *testing.T) {
	a := newApp(t)
	path := write(t, a.runbook())

	code, out, _ := run(t, "preflight", "-f", path, "--as", "sandbox-viewer")
	if code != 2 {
		t.Fatalf("preflight --as sandbox-viewer: exit %d, want 2 (NO-GO)", code)
	}
	l := line(t, out, "✗ access         deployments.apps")
	if want := "user sandbox-viewer may not patch, update deployments.apps in namespace " + a.ns; !strings.Contains(l, want) {
		t.Errorf("access line %q lacks %q: the checks did not run as the impersonated user", l, want)
	}

	dir := filepath.Dir(path)
	code, _, errOut := run(t, "run", "-f", path, "--yes", "--journal-dir", filepath.Join(dir, "incidents"), "--as", "sandbox-viewer")
	if code != 2 || !strings.Contains(errOut, "sandbox-viewer") || !strings.Contains(errOut, "may not take the cluster lock") {
		t.Errorf("run --as sandbox-viewer: exit %d, stderr %q; want a refusal at the lock naming the impersonated user", code, errOut)
	}
	if d := deploymentImage(t, a); d != a.v2 {
		t.Errorf("image after the refused run = %s, want %s (nothing changed)", d, a.v2)
	}

	code, _, errOut = run(t, "drill", "-f", path, "-n", a.ns+"-drill", "--as", "sandbox-viewer", "--journal-dir", filepath.Join(dir, "drills"))
	if code != 2 || !strings.Contains(errOut, "sandbox-viewer") {
		t.Errorf("drill --as sandbox-viewer: exit %d, stderr %q; want a refusal naming the impersonated user", code, errOut)
	}

	dead := "https://" + closedAddr(t)
	code, out, _ = run(t, "preflight", "-f", path, "--server", dead, "--insecure-skip-tls-verify", "--request-timeout", "2s")
	if code != 2 || !strings.Contains(out, strings.TrimPrefix(dead, "https://")) {
		t.Errorf("preflight --server %s: exit %d, want 2 with the unreachable server named:\n%s", dead, code, out)
	}
}

// deploymentImage returns the image of the application's Deployment.
func deploymentImage(t *testing.T, a app) string {
	t.Helper()
	d, err := sb.Clientset.AppsV1().Deployments(a.ns).Get(ctx(t), a.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}
