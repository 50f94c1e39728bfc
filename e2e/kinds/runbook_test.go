//go:build e2e

package kinds_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/guard"
)

// writeRunbook writes a runbook whose app step rolls back StatefulSet db
// and DaemonSet agent of namespace ns.
func writeRunbook(t *testing.T, ns string) string {
	t.Helper()
	rb := fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: kinds
clusters:
  - context: sandbox
    namespace: %s
statefulSets: [db]
daemonSets: [agent]
escalation:
  primary:
    name: Dana On-Call
    contact: "+1-555-0100"
steps: [app]
`, ns)
	p := filepath.Join(t.TempDir(), "rollback.yaml")
	if err := os.WriteFile(p, []byte(rb), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRunbookWithSets: preflight checks the runbook's StatefulSet and
// DaemonSet; `rollback run` rolls both back as one incident (the stuck
// StatefulSet pod replaced) and its report names them; kubectl rollout
// status is the referee.
func TestRunbookWithSets(t *testing.T) {
	ns := sb.Namespace(t)
	stuckSet(t, ns, "db")
	badSet(t, ns, "ds/agent", nil, nil)
	rb := writeRunbook(t, ns)
	dir := t.TempDir()

	code, out, errOut := run(t, "preflight", "-f", rb)
	if code != 0 || !strings.Contains(out, "statefulset/db") || !strings.Contains(out, "daemonset/agent") {
		t.Fatalf("preflight: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "run", "-f", rb, "--dry-run", "--journal-dir", dir)
	if code != 0 || !strings.Contains(out+errOut, "statefulset/db") || !strings.Contains(out+errOut, "daemonset/agent") {
		t.Fatalf("run --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, "run", "-f", rb, "--yes", "--settle", "1s", "--journal-dir", dir)
	if code != 0 {
		t.Fatalf("run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, w := range []string{"sts/db", "ds/agent"} {
		sb.Kubectl(t, "-n", ns, "rollout", "status", w, "--timeout=60s")
	}
	entries, id := onlyIncident(t, dir)
	var replaced bool
	for _, e := range entries {
		if d, _ := e.Inputs["detail"].(string); e.Target == "statefulset/db" && strings.Contains(d, "deleted pod db-2") {
			replaced = true
		}
	}
	if !replaced {
		t.Errorf("the journal does not record the deletion of the stuck pod db-2")
	}
	reports, _ := filepath.Glob(filepath.Join(dir, id+"*.md"))
	if len(reports) == 0 {
		t.Fatalf("no report for %s in %s", id, dir)
	}
	report, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"statefulset/db", "daemonset/agent"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %s:\n%s", want, report)
		}
	}
}

// TestGuardSets: guard watches a StatefulSet's and a DaemonSet's rollout,
// fails fast on the crash loop and rolls back to the known-good revision.
func TestGuardSets(t *testing.T) {
	for _, w := range []string{"sts/db", "ds/agent"} {
		t.Run(strings.Split(w, "/")[0], func(t *testing.T) {
			ns := sb.Namespace(t)
			badSet(t, ns, w, nil, nil)
			code, out, errOut := run(t, "guard", w, "-n", ns, "--bake", "5s", "--interval", "1s", "--timeout", "2m", "--settle", "1s", "--journal-dir", t.TempDir(), "-o", "json")
			if code != exitcode.Unhealthy {
				t.Fatalf("guard: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			var r guard.Result
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("guard json: %v\n%s", err, out)
			}
			if r.Verdict != guard.VerdictRolledBack || r.Undo == nil || r.Undo.ToRevision != 1 || !strings.Contains(r.Reason, "CrashLoopBackOff") {
				t.Fatalf("guard: verdict %s, undo %+v, reason %q", r.Verdict, r.Undo, r.Reason)
			}
			sb.Kubectl(t, "-n", ns, "rollout", "status", w, "--timeout=60s")
		})
	}
}

// TestDrillSets: the drill copies the runbook's StatefulSet (with its
// volumeClaimTemplates) and DaemonSet at their known-good revisions into
// the drill namespace, breaks the StatefulSet, detects it, rolls both back
// with the runbook's app step and deletes the namespace; production is
// untouched.
func TestDrillSets(t *testing.T) {
	ns := sb.Namespace(t)
	statefulSet(t, ns, "db", "vibestack/db:v1", sandboxenv.StatefulSetOptions{})
	markGood(t, ns, "sts/db")
	daemonSet(t, ns, "agent", "vibestack/agent:v1", sandboxenv.DaemonSetOptions{})
	markGood(t, ns, "ds/agent")
	prod := generation(t, ns, "sts/db")
	rb := writeRunbook(t, ns)
	dir := t.TempDir()
	code, out, errOut := run(t, "drill", "-f", rb, "-n", ns+"-drill", "--journal-dir", dir, "--settle", "1s")
	if code != 0 {
		t.Fatalf("drill: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"passed", "time to detect", "time to recover", "CrashLoopBackOff", "statefulset db container app image vibestack/db:crash"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("drill output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, out, errOut)
		}
	}
	if g := generation(t, ns, "sts/db"); g != prod {
		t.Errorf("the drill changed production: generation %d -> %d", prod, g)
	}
}
