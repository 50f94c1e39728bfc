//go:build e2e

package helmrun_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestFaultAndResume kills `rollback run` (SIGKILL, from the journal) at
// every boundary of the release's target: after step.started (the plan is
// journaled, Helm's rollback not run), after step.written (Helm recorded
// the rollback) and after step.verifying. `rollback run --resume ID` then
// ends each case with the release rolled back exactly once, verified and
// marked good. The runbook lists the release and no Deployment.
func TestFaultAndResume(t *testing.T) {
	target := "helmrelease/web"
	for _, point := range []string{journal.ActionStepStarted.String(), journal.ActionStepWritten.String(), journal.ActionStepVerifying.String()} {
		t.Run("after "+point, func(t *testing.T) {
			t.Parallel()
			ns := sb.Namespace(t)
			badRelease(t, ns)
			dir := t.TempDir()
			rb := writeRunbook(t, dir, ns, nil, true)
			journalDir := filepath.Join(dir, "incidents")
			args := []string{"-f", rb, "--yes", "--journal-dir", journalDir, "--settle", "1s", "--lock-duration", "3s"}

			killed := start(t, map[string]string{command.FaultEnv: point + "@app@" + target}, append([]string{"run"}, args...)...).Wait(t, 3*time.Minute)
			if killed.Code != -1 {
				t.Fatalf("run with %s=%s@app@%s: exit %d, want killed by the fault\n%s", command.FaultEnv, point, target, killed.Code, killed.All())
			}
			id := incidentID.FindString(killed.Stderr)
			if id == "" {
				t.Fatal("no incident id in the killed run's output")
			}
			res := rollbackHelm(t, nil, append([]string{"run", "--resume", id}, args...)...)
			if res.Code != 0 {
				t.Fatalf("resume after a kill at %s: exit %d", point, res.Code)
			}
			mustContain(t, "resume", res.All(), "resumed", "rolled-back")

			h := helmenv.History(t, sb.Kubeconfig, ns, "web")
			rollbacks := 0
			for _, r := range h {
				if r.Description == "Rollback to 1" {
					rollbacks++
				}
			}
			if rollbacks != 1 || h.Line(4) != `4 deployed web-1.0.0 "Rollback to 1"` {
				t.Errorf("helm history after the resume (%d rollbacks): %+v", rollbacks, h)
			}
			if img := image(t, ns); img != "vibestack/app:v1" {
				t.Errorf("image after the resume: %s", img)
			}
			es := clitest.JournalEntries(t, journalDir, id, target)
			t.Logf("journal of %s: %d started, %d written, %d verifying, %d completed", target,
				clitest.CountActions(es, journal.ActionStepStarted), clitest.CountActions(es, journal.ActionStepWritten), clitest.CountActions(es, journal.ActionStepVerifying), clitest.CountActions(es, journal.ActionStepCompleted))
			if clitest.CountActions(es, journal.ActionStepWritten) != 1 || clitest.CountActions(es, journal.ActionStepCompleted) != 1 || clitest.CountActions(es, journal.ActionStepVerifying) == 0 {
				t.Errorf("journal of %s after the resume: %+v", target, es)
			}
			if hist := rollbackHistory(t, ns); hist.LastGood != 4 {
				t.Errorf("revision 4 is not marked good after the resume: last good %d", hist.LastGood)
			}
		})
	}
}
