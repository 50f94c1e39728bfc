//go:build e2e

package helmrun_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestGuardRollsBackThroughRelease: `helm upgrade` ships a crash-looping
// v2 of a release whose v1 is marked good; `rollback guard web` sees the
// Deployment crash, marks Helm revision 2 failed and rolls the Deployment
// back through its release (Helm's rollback, under the Deployment's and
// the release's locks, journaled in the incident): `helm history` shows
// "Rollback to 1" as revision 3, which rollback verified and marked good.
func TestGuardRollsBackThroughRelease(t *testing.T) {
	ns := sb.Namespace(t)
	r := goodRelease(t, ns)
	if err := r.Upgrade("2.0.0", helmenv.Values("vibestack/app:crash", "s3cret-two", 2)); err != nil {
		t.Fatal(err)
	}
	journalDir := t.TempDir()
	res := rollbackHelm(t, map[string]string{"ROLLBACK_JOURNAL_DIR": journalDir},
		"guard", "web", "-n", ns, "--bake", "5s", "--interval", "1s", "--settle", "1s", "-o", "json")
	if res.Code != exitcode.Unhealthy {
		t.Fatalf("guard: exit %d, want %d (bad release rolled back)", res.Code, exitcode.Unhealthy)
	}
	var g guard.Result
	if err := json.Unmarshal([]byte(res.Stdout), &g); err != nil {
		t.Fatal(err)
	}
	if g.Verdict != guard.VerdictRolledBack || g.Release != "web" || g.Helm == nil || g.Helm.NewRevision != 3 || g.Helm.Plan.To.Revision != 1 || g.Undo != nil {
		t.Fatalf("guard result: verdict %s, release %q, helm %+v, undo %+v", g.Verdict, g.Release, g.Helm, g.Undo)
	}
	mustContain(t, "guard", res.Stderr, "revision 2 of Helm release web marked failed", "Undo helm release web", "rolled back from revision 2 to revision 1 of Helm release web (now 3)")

	h := helmenv.History(t, sb.Kubeconfig, ns, "web")
	if h.Line(3) != `3 deployed web-1.0.0 "Rollback to 1"` || h.Line(2) != `2 superseded web-2.0.0 "Upgrade complete"` {
		t.Errorf("helm history after guard: %+v", h)
	}
	if img := image(t, ns); img != "vibestack/app:v1" {
		t.Errorf("image after guard: %s", img)
	}
	hist := rollbackHistory(t, ns)
	if healthOf(hist, 2) != "failed" || hist.LastGood != 3 || !strings.Contains(hist.Revisions[1].HealthDetail, "guard") {
		t.Errorf("rollback's marks after guard: revision 2 %s (%s), last good %d", healthOf(hist, 2), hist.Revisions[1].HealthDetail, hist.LastGood)
	}

	es := clitest.JournalEntries(t, journalDir, g.Incident, "")
	var rel []journal.Entry
	leases := map[string]bool{}
	for _, e := range es {
		if e.Target == "helmrelease/web" {
			rel = append(rel, e)
		}
		if e.Action == journal.ActionLockAcquired {
			leases[e.Target] = true
		}
	}
	if clitest.CountActions(rel, journal.ActionStepStarted) != 1 || clitest.CountActions(rel, journal.ActionStepWritten) != 1 || clitest.CountActions(rel, journal.ActionStepVerifying) != 1 || clitest.CountActions(rel, journal.ActionStepCompleted) != 1 {
		t.Errorf("journal of helmrelease/web: %+v", rel)
	}
	if !leases["lease/rollback-deployment-web"] || !leases["lease/rollback-helmrelease-web"] {
		t.Errorf("locks taken: %v, want the deployment's and the release's", leases)
	}
	j := readFile(t, filepath.Join(journalDir, g.Incident+".jsonl"))
	report, _ := os.ReadFile(filepath.Join(journalDir, g.Incident+".md"))
	mustContain(t, "report", string(report), "### app: helmrelease/web (completed)")
	mustNotContain(t, "guard output, journal and report", res.All()+j+string(report), secrets...)
}

// TestGuardPassMarksReleaseGood: a good `helm upgrade` passes its bake, and
// guard marks the new Helm revision good, as `rollback helm mark-good` would.
func TestGuardPassMarksReleaseGood(t *testing.T) {
	ns := sb.Namespace(t)
	r := goodRelease(t, ns)
	if err := r.Upgrade("2.0.0", helmenv.Values("vibestack/app:v2", "s3cret-two", 2)); err != nil {
		t.Fatal(err)
	}
	res := rollbackHelm(t, nil, "guard", "web", "-n", ns, "--bake", "3s", "--interval", "1s")
	if res.Code != 0 {
		t.Fatalf("guard of a good release: exit %d", res.Code)
	}
	mustContain(t, "guard", res.Stderr, "revision 2 of Helm release web marked good")
	hist := rollbackHistory(t, ns)
	if hist.LastGood != 2 || !strings.Contains(hist.Revisions[1].HealthDetail, "guard") {
		t.Errorf("revision 2 not marked good by guard: last good %d, %+v", hist.LastGood, hist.Revisions[1])
	}
	if n := len(helmenv.History(t, sb.Kubeconfig, ns, "web")); n != 2 {
		t.Errorf("guard of a good release changed it: %d revisions", n)
	}
}
