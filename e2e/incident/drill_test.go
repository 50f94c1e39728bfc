//go:build e2e

package incident_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDrill: two drills on a copy of the application in a drill namespace
// (a bad image, then a bad configuration) detect the bad release, recover,
// report their timings compared with the earlier drill, clean up, and leave
// the production namespace untouched. A drill in the production namespace is
// refused.
func TestDrill(t *testing.T) {
	ns := sb.Namespace(t)
	goodApp(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, steps: []string{"app", "config"}})
	journalDir := filepath.Join(dir, "incidents")
	prod := deployment(t, ns)
	drillNS := ns + "-drill"

	refused := rollback(t, nil, "drill", "-f", rb, "-n", ns, "--journal-dir", journalDir)
	if refused.Code != 2 || !strings.Contains(refused.All(), "non-production namespace") {
		t.Fatalf("drill in the production namespace: exit %d, want 2 with the reason", refused.Code)
	}

	first := rollback(t, nil, "drill", "-f", rb, "-n", drillNS, "--journal-dir", journalDir, "--settle", "1s")
	if first.Code != 0 {
		t.Fatalf("first drill: exit %d", first.Code)
	}
	mustContain(t, "first drill", first.Stdout, "passed", "time to detect", "time to recover", "CrashLoopBackOff", "first passed drill", "namespace "+drillNS+" deleted")
	waitFor(t, 60*time.Second, "the drill namespace to go away", func() bool {
		n, err := sb.Clientset.CoreV1().Namespaces().Get(context.Background(), drillNS, metav1.GetOptions{})
		return err != nil || n.DeletionTimestamp != nil
	})
	waitFor(t, 90*time.Second, "the drill namespace to be deleted", func() bool {
		_, err := sb.Clientset.CoreV1().Namespaces().Get(context.Background(), drillNS, metav1.GetOptions{})
		return err != nil
	})

	second := rollback(t, nil, "drill", "-f", rb, "-n", drillNS, "--journal-dir", journalDir, "--settle", "1s", "--bad-config", "SANDBOX_MODE=crash")
	if second.Code != 0 {
		t.Fatalf("second drill: exit %d", second.Code)
	}
	mustContain(t, "second drill", second.Stdout, "passed", "median of 1 earlier passed drills", "EARLIER DRILL", "SANDBOX_MODE=crash")
	id := incidentID.FindString(second.Stdout)
	report, err := os.ReadFile(filepath.Join(journalDir, id+".md"))
	must(t, err)
	mustContain(t, "drill report", string(report), "drill.completed", "drill.detected", "configmap/vibestack-config", "## Drill", "Time to detect", "Time to recover")

	after := deployment(t, ns)
	if after.Generation != prod.Generation || after.Spec.Template.Spec.Containers[0].Image != prod.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("the production deployment changed during the drills: generation %d -> %d", prod.Generation, after.Generation)
	}
}
