//go:build e2e

package helmrun_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestControllerRollsBackThroughRelease: the guard controller guards a
// Deployment installed by Helm (opted in through the chart's values); a
// crash-looping `helm upgrade` is rolled back through the release, in the
// rollback-helm program the controller runs: `helm history` shows
// "Rollback to 1", the guard state says rolled-back and names the release,
// and the incident's journal has the release's target.
func TestControllerRollsBackThroughRelease(t *testing.T) {
	ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
	annotations := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
		guardcontroller.AnnotationBake: "3s", guardcontroller.AnnotationInterval: "1s", guardcontroller.AnnotationSettle: "1s"}
	r := goodRelease(t, ns, annotations)
	journalDir := t.TempDir()
	ctl := start(t, nil, "guard", "--controller", "--identity", "helm-replica", "--health-addr", "127.0.0.1:0",
		"--journal-dir", journalDir, "-n", ns, "--lease-namespace", leaseNS, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms")
	t.Cleanup(func() {
		ctl.Stop(15 * time.Second)
		t.Logf("controller output:\n%s%s", ctl.Stdout(), ctl.Stderr())
	})
	clitest.WaitFor(t, 30*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "helm-replica: became the leader") })
	if !strings.Contains(ctl.Stderr(), "Helm releases are rolled back with") {
		t.Errorf("the controller did not find rollback-helm:\n%s", ctl.Stderr())
	}

	v := helmenv.Values("vibestack/app:crash", "s3cret-two", 2)
	v["deploymentAnnotations"] = annotations
	if err := r.Upgrade("2.0.0", v); err != nil {
		t.Fatal(err)
	}
	var st guardcontroller.State
	clitest.WaitFor(t, 2*time.Minute, "the controller rolled the release back", func() bool {
		s, err := guardcontroller.ReadState(sb.Deployment(t, ns, "web"))
		if err != nil || s == nil {
			return false
		}
		st = *s
		return s.Phase == guardcontroller.PhaseRolledBack || s.Phase == guardcontroller.PhaseFailed
	})
	if st.Phase != guardcontroller.PhaseRolledBack || st.Release != "web" {
		t.Fatalf("guard state: %+v", st)
	}
	h := helmenv.History(t, sb.Kubeconfig, ns, "web")
	if h.Line(3) != `3 deployed web-1.0.0 "Rollback to 1"` {
		t.Errorf("helm history after the controller's rollback: %+v", h)
	}
	if img := image(t, ns); img != "vibestack/app:v1" {
		t.Errorf("image after the controller's rollback: %s", img)
	}
	if hist := rollbackHistory(t, ns); healthOf(hist, 2) != "failed" || hist.LastGood != 3 {
		t.Errorf("rollback's marks: revision 2 %s, last good %d", healthOf(hist, 2), hist.LastGood)
	}
	clitest.WaitFor(t, 30*time.Second, "the incident is closed", func() bool {
		es, err := journal.Read(journalDir, st.Incident)
		return err == nil && count(es, journal.ActionIncidentClosed) == 1
	})
	rel := entries(t, journalDir, st.Incident, "helmrelease/web")
	if count(rel, journal.ActionStepStarted) != 1 || count(rel, journal.ActionStepWritten) != 1 || count(rel, journal.ActionStepCompleted) != 1 {
		t.Errorf("journal of helmrelease/web: %+v", rel)
	}
	mustNotContain(t, "controller output", ctl.Stdout()+ctl.Stderr(), secrets...)
}
