//go:build e2e

package app_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/exitcode"
)

// On two identical Deployments, `rollback app undo --to-revision N` and
// `kubectl rollout undo --to-revision N` produce the same pod template, and
// `kubectl rollout history` agrees.
func TestKubectlCompatibility(t *testing.T) {
	if _, err := exec.LookPath(sandboxenv.KubectlBin); err != nil {
		t.Skipf("kubectl not installed at %s", sandboxenv.KubectlBin)
	}
	ns := sb.Namespace(t)
	for _, name := range []string{"a", "b"} {
		newDeployment(t, ns, name, "vibestack/app:v1")
		setImage(t, ns, name, "vibestack/app:v2")
		setImage(t, ns, name, "vibestack/app:v3")
		waitRolledOut(t, ns, name)
	}
	code, _, _ := run(t, "app", "undo", "a", "-n", ns, "--to-revision", "1", "--yes", "--settle", "200ms")
	if code != exitcode.OK {
		t.Fatalf("rollback undo: exit %d", code)
	}
	sb.Kubectl(t, "rollout", "undo", "deployment/b", "-n", ns, "--to-revision=1")
	waitRevision(t, ns, "b", 4)
	waitRolledOut(t, ns, "b")

	ta, tb := getDeployment(t, ns, "a").Spec.Template, getDeployment(t, ns, "b").Spec.Template
	// The two Deployments differ only in their app label.
	tb.Labels["app"] = "a"
	if !apiequality.Semantic.DeepEqual(ta, tb) {
		t.Errorf("pod templates differ:\nrollback: %+v\nkubectl:  %+v", ta, tb)
	}
	if da, db := getDeployment(t, ns, "a"), getDeployment(t, ns, "b"); !sameAnnotations(da, db) {
		t.Errorf("deployment annotations differ:\nrollback: %v\nkubectl:  %v", da.Annotations, db.Annotations)
	}
	ha := sb.Kubectl(t, "rollout", "history", "deployment/a", "-n", ns)
	hb := sb.Kubectl(t, "rollout", "history", "deployment/b", "-n", ns)
	if strings.Replace(hb, "deployment.apps/b", "deployment.apps/a", 1) != ha {
		t.Errorf("kubectl rollout history differs:\n%s\n%s", ha, hb)
	}
	if !regexp.MustCompile(`(?m)^2\s.*\n3\s.*\n4\s`).MatchString(ha) {
		t.Errorf("history should list revisions 2, 3, 4:\n%s", ha)
	}
}

func sameAnnotations(a, b *appsv1.Deployment) bool {
	return apiequality.Semantic.DeepEqual(a.Annotations, b.Annotations)
}
