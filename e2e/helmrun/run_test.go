//go:build e2e

package helmrun_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestRunRollsReleaseBackPastFailedRevision: a runbook lists Deployment web
// and its release web. The dry run plans the release's rollback (and says
// the Deployment goes through it), preflight checks it, and `rollback run`
// rolls the release back through Helm to the last good revision 1, past
// the failed 3 and the crash-looping 2; the helm CLI agrees.
func TestRunRollsReleaseBackPastFailedRevision(t *testing.T) {
	ns := sb.Namespace(t)
	badRelease(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, ns, []string{"web"}, true)
	journalDir := filepath.Join(dir, "incidents")

	dry := rollbackHelm(t, nil, "run", "-f", rb, "--dry-run", "--journal-dir", journalDir)
	if dry.Code != 0 {
		t.Fatalf("dry run: exit %d", dry.Code)
	}
	mustContain(t, "dry run", dry.All(), "helmrelease/web", "planned", "from revision 3", "to revision 1",
		"deployment/web", "rolled back through helmrelease/web, not patched", "image: vibestack/app:v3 -> vibestack/app:v1", "apiKey: [REDACTED]")
	if n := len(helmenv.History(t, sb.Kubeconfig, ns, "web")); n != 3 {
		t.Fatalf("the dry run changed the release: %d revisions", n)
	}

	pre := rollbackHelm(t, nil, "preflight", "-f", rb)
	if pre.Code != 0 {
		t.Fatalf("preflight: exit %d", pre.Code)
	}
	mustContain(t, "preflight", pre.Stdout, "helmrelease/web storage (secrets)", "current 3 (web-3.0.0, failed", "target 1 (web-1.0.0, good)",
		"rolls it back through helmrelease/web", "helmrelease/web deployment/web", "GO")

	res := rollbackHelm(t, nil, "run", "-f", rb, "--yes", "--settle", "1s", "--journal-dir", journalDir)
	if res.Code != 0 {
		t.Fatalf("run: exit %d", res.Code)
	}
	mustContain(t, "run", res.Stdout, "rolled-back", "helmrelease/web  done", "revision 3 -> 1 (web-1.0.0), now 4: healthy, marked good")
	mustNotContain(t, "run output", dry.All()+pre.All()+res.All(), secrets...)

	// The referee: Helm recorded the rollback as its own.
	h := helmenv.History(t, sb.Kubeconfig, ns, "web")
	if len(h) != 4 || h.Line(4) != `4 deployed web-1.0.0 "Rollback to 1"` || h[1].Status != "superseded" || h[2].Status != "failed" {
		t.Errorf("helm history after the run: %+v", h)
	}
	if v, st := helmenv.Status(t, sb.Kubeconfig, ns, "web"); v != 4 || st != "deployed" {
		t.Errorf("helm status: %d %s, want 4 deployed", v, st)
	}
	if img := image(t, ns); img != "vibestack/app:v1" {
		t.Errorf("image after the run: %s", img)
	}
	if hist := rollbackHistory(t, ns); hist.LastGood != 4 || healthOf(hist, 3) != "failed" {
		t.Errorf("rollback's marks: last good %d, revision 3 %s", hist.LastGood, healthOf(hist, 3))
	}

	id := incidentID.FindString(res.All())
	es := clitest.JournalEntries(t, journalDir, id, "helmrelease/web")
	if clitest.CountActions(es, journal.ActionStepStarted) != 1 || clitest.CountActions(es, journal.ActionStepWritten) != 1 || clitest.CountActions(es, journal.ActionStepVerifying) != 1 || clitest.CountActions(es, journal.ActionStepCompleted) != 1 {
		t.Errorf("journal of helmrelease/web: %+v", es)
	}
	if len(es) > 0 {
		plan, _ := es[0].Inputs["plan"].(map[string]any)
		if plan["from"] != float64(3) || plan["to"] != float64(1) {
			t.Errorf("journaled plan: %v", plan)
		}
	}
	if d := clitest.JournalEntries(t, journalDir, id, "deployment/web"); clitest.CountActions(d, journal.ActionStepSkipped) != 1 || clitest.CountActions(d, journal.ActionStepWritten) != 0 {
		t.Errorf("deployment/web was not left to its release: %+v", d)
	}
	if locks := clitest.JournalEntries(t, journalDir, id, "lease/rollback-helmrelease-web"); clitest.CountActions(locks, journal.ActionLockAcquired) != 1 {
		t.Errorf("the release's lock was not taken: %+v", locks)
	}
	report := readFile(t, filepath.Join(journalDir, id+".md"))
	mustContain(t, "report", report, "### app: helmrelease/web (completed)", "revision 3 -> 1 (web-1.0.0), now 4: healthy, marked good", "restoredRevision")
	mustNotContain(t, "journal and report", readFile(t, filepath.Join(journalDir, id+".jsonl"))+report, secrets...)
}

// TestRunRefusesHelmDeploymentWithoutItsRelease: a runbook that lists the
// Helm-managed Deployment web but not its release is NO-GO at preflight,
// and the app step refuses it as `rollback app undo` does, naming the
// release to list; nothing is changed.
func TestRunRefusesHelmDeploymentWithoutItsRelease(t *testing.T) {
	ns := sb.Namespace(t)
	badRelease(t, ns)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, ns, []string{"web"}, false)

	res := rollbackHelm(t, nil, "run", "-f", rb, "--yes", "--journal-dir", filepath.Join(dir, "incidents"))
	if res.Code != exitcode.Refused {
		t.Fatalf("run: exit %d, want %d", res.Code, exitcode.Refused)
	}
	mustContain(t, "preflight", res.Stderr, "NO-GO", "Helm release web", "helmReleases (- name: web)")

	res = rollbackHelm(t, nil, "run", "-f", rb, "--yes", "--accept-no-go", "--journal-dir", filepath.Join(dir, "incidents"))
	if res.Code != exitcode.Refused {
		t.Fatalf("run --accept-no-go: exit %d, want %d", res.Code, exitcode.Refused)
	}
	mustContain(t, "refusal", res.All(), "deployment web belongs to Helm release web", "rollback helm undo web -n "+ns, "list the release in the runbook's helmReleases (- name: web)")
	if n := len(helmenv.History(t, sb.Kubeconfig, ns, "web")); n != 3 {
		t.Errorf("the refused run changed the release: %d revisions", n)
	}
	if img := image(t, ns); !strings.HasSuffix(img, ":crash") {
		t.Errorf("the refused run patched the deployment: %s", img)
	}
}
