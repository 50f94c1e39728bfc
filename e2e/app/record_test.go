//go:build e2e

package app_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestSingleUndoLeavesARecord: `rollback app undo` (what the runbook's
// rollback_k8s.sh wraps) records its change as an incident of its own:
// journal, lock, report, `rollback incident list`; with --incident it joins
// an open incident instead. Bad input leaves no record.
func TestSingleUndoLeavesARecord(t *testing.T) {
	ns := sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1")
	markGood(t, ns, "web")
	setImage(t, ns, "web", "vibestack/app:crash")
	dir := filepath.Join(t.TempDir(), "incidents")

	code, out, errOut := run(t, "app", "undo", "nope", "-n", ns, "--yes", "--journal-dir", dir)
	if code != 2 {
		t.Fatalf("undo of a missing deployment: exit %d", code)
	}
	if l, _ := journal.List(dir); len(l) != 0 {
		t.Errorf("a refused undo left %d incidents", len(l))
	}

	code, out, errOut = run(t, "app", "undo", "web", "-n", ns, "--yes", "--settle", "1s", "--journal-dir", dir, "--reason", "crash after deploy")
	if code != 0 {
		t.Fatalf("undo: exit %d", code)
	}
	l, err := journal.List(dir)
	if err != nil || len(l) != 1 {
		t.Fatalf("incidents after one undo: %+v, %v; want 1", l, err)
	}
	id := l[0].Incident
	if !strings.Contains(errOut, "incident "+id+" opened") {
		t.Errorf("stderr does not name the incident: %s", errOut)
	}
	entries, err := journal.Read(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, string(e.Action))
	}
	want := "incident.opened lock.acquired evidence.collected step.started step.written step.verifying step.completed lock.released incident.closed"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("journal actions:\n got %s\nwant %s", got, want)
	}
	code, out, _ = run(t, "incident", "list", "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, id) {
		t.Errorf("incident list: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "incident", "report", id, "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "crash after deploy") || !strings.Contains(out, "deployment/web") {
		t.Errorf("incident report: exit %d\n%s", code, out)
	}

	// A second change joins the incident: restart records into it.
	clitest.WaitFor(t, time.Minute, "the rollback settled", func() bool { return getDeployment(t, ns, "web").Status.UpdatedReplicas == 3 })
	code, _, _ = run(t, "app", "restart", "web", "-n", ns, "--journal-dir", dir, "--incident", id)
	if code != 2 {
		t.Errorf("restart joining a closed incident: exit %d, want 2", code)
	}
	code, _, _ = run(t, "app", "restart", "web", "-n", ns, "--journal-dir", dir)
	if code != 0 {
		t.Fatalf("restart: exit %d", code)
	}
	if l, _ := journal.List(dir); len(l) != 2 {
		t.Errorf("incidents after the restart: %d, want 2", len(l))
	}
	_ = out
}
