//go:build e2e

package app_test

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/internal/exitcode"
)

// Each refusal gives its message and exit code and changes nothing.
func TestUndoRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, ns string)
		args    []string
		code    int
		message string
	}{
		{name: "pruned target", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1", func(d *appsv1.Deployment) { one := int32(1); d.Spec.RevisionHistoryLimit = &one })
			setImage(t, ns, "web", "vibestack/app:v2")
			setImage(t, ns, "web", "vibestack/app:v3")
			eventually(t, "revision 1 pruned", func() bool {
				l, err := sb.Clientset.AppsV1().ReplicaSets(ns).List(ctx(t), metav1.ListOptions{})
				return err == nil && len(l.Items) == 2
			})
		}, args: []string{"--to-revision", "1", "--yes"}, code: exitcode.Refused, message: "no longer exists: revisionHistoryLimit pruned its ReplicaSet; revisions that exist: 2, 3"},
		{name: "paused", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1")
			markGood(t, ns, "web")
			setImage(t, ns, "web", "vibestack/app:crash")
			pause(t, ns, "web")
		}, args: []string{"--yes"}, code: exitcode.Refused, message: "is paused"},
		{name: "argo cd", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1", func(d *appsv1.Deployment) {
				d.Labels["app.kubernetes.io/instance"] = "shop"
				d.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:x/web"}
			})
			markGood(t, ns, "web")
			setImage(t, ns, "web", "vibestack/app:crash")
		}, args: []string{"--yes"}, code: exitcode.Refused, message: "argocd app set shop --sync-policy none"},
		{name: "flux", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1", func(d *appsv1.Deployment) { d.Labels["kustomize.toolkit.fluxcd.io/name"] = "apps" })
			markGood(t, ns, "web")
			setImage(t, ns, "web", "vibestack/app:crash")
		}, args: []string{"--yes"}, code: exitcode.Refused, message: "flux suspend kustomization apps"},
		{name: "already at target", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1")
			setImage(t, ns, "web", "vibestack/app:v2")
			markGood(t, ns, "web")
		}, args: []string{"--yes"}, code: exitcode.OK, message: "skipped"},
		{name: "no tty without --yes", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1")
			markGood(t, ns, "web")
			setImage(t, ns, "web", "vibestack/app:crash")
		}, code: exitcode.Refused, message: "re-run with --yes"},
		{name: "never healthy fallback", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1")
			setImage(t, ns, "web", "vibestack/app:crash-a")
			if code, _, _ := run(t, "app", "status", "web", "-n", ns); code != exitcode.Unhealthy {
				t.Fatalf("status of crash-a: exit %d", code)
			}
			setImage(t, ns, "web", "vibestack/app:crash-b")
		}, args: []string{"--yes"}, code: exitcode.Refused, message: "never became healthy"},
		{name: "dry run", setup: func(t *testing.T, ns string) {
			newDeployment(t, ns, "web", "vibestack/app:v1")
			markGood(t, ns, "web")
			setImage(t, ns, "web", "vibestack/app:crash")
		}, args: []string{"--dry-run"}, code: exitcode.OK, message: "image: vibestack/app:crash -> vibestack/app:v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := sb.Namespace(t)
			tt.setup(t, ns)
			before := quietResourceVersion(t, ns, "web")
			code, out, errOut := run(t, append([]string{"app", "undo", "web", "-n", ns}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(out+errOut, tt.message) {
				t.Errorf("output lacks %q", tt.message)
			}
			if after := getDeployment(t, ns, "web").ResourceVersion; after != before {
				t.Errorf("resourceVersion %s -> %s: the deployment changed", before, after)
			}
		})
	}
}

// quietResourceVersion waits until the controller has stopped updating the
// deployment (same resourceVersion for 500 ms) and returns it.
func quietResourceVersion(t *testing.T, ns, name string) string {
	t.Helper()
	rv := ""
	stable := time.Now()
	eventually(t, "deployment "+name+" quiet", func() bool {
		d := getDeployment(t, ns, name)
		if d.ResourceVersion != rv || d.Status.ObservedGeneration < d.Generation {
			rv, stable = d.ResourceVersion, time.Now()
			return false
		}
		return time.Since(stable) > 500*time.Millisecond
	})
	return rv
}
