//go:build e2e

package helm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/helmenv"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

// TestSetsController: the guard controller guards the StatefulSet db and
// the DaemonSet agent of release stack, opted in through the chart's
// values. A `helm upgrade` that breaks one of them (db crash-loops and,
// OrderedReady, stays stuck on db-2; agent cannot pull its image) is
// rolled back through the release, in the rollback-helm program the
// controller runs: helm history shows "Rollback to 1", the set runs v1
// with every pod Ready (kubectl rollout status agrees), the guard state on
// the set says rolled-back and names the release, the incident's journal
// has the release's step once and is closed, and the release's Secret
// value appears nowhere in the controller's output.
func TestSetsController(t *testing.T) {
	for _, c := range []struct {
		name, workload, bad, pods, image string
		replaced                         []string // the pods the rollback deletes for their set's controller to recreate
	}{
		{"StatefulSet", "statefulset/db", "dbTag=crash-v2", "app=db", "vibestack/db:v1", []string{"db-2"}},
		{"DaemonSet", "daemonset/agent", "agentTag=pull-error", "app=agent", "vibestack/agent:v1", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
			guarded := map[string]string{guardcontroller.AnnotationGuard: guardcontroller.EnabledValue,
				guardcontroller.AnnotationBake: "3s", guardcontroller.AnnotationInterval: "1s",
				guardcontroller.AnnotationSettle: "1s", guardcontroller.AnnotationTimeout: "2m"}
			vals := writeValues(t, map[string]any{"apiKey": "s3cret-sets-one", "dbAnnotations": guarded, "agentAnnotations": guarded})
			chart := installSets(t, ns, "-f", vals)

			journalDir := t.TempDir()
			ctl := helmenv.StartController(t, sb.Kubeconfig, "sets-replica", ns, leaseNS, journalDir)
			clitest.WaitFor(t, 30*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "sets-replica: became the leader") })

			helmCLI(t, "upgrade", "stack", chart, "-n", ns, "-f", vals, "--set", c.bad, "--set", "apiKey=s3cret-sets-two")
			var st guardcontroller.State
			clitest.WaitFor(t, 3*time.Minute, "the controller rolled the release back", func() bool {
				st = clitest.GuardState(t, sb.Clientset, ns, c.workload)
				return st.Phase == guardcontroller.PhaseRolledBack || st.Phase == guardcontroller.PhaseFailed
			})
			if st.Phase != guardcontroller.PhaseRolledBack || st.Release != "stack" || st.Revision != 2 || st.Incident == "" {
				t.Fatalf("guard state on %s: %+v; want revision 2 rolled back through release stack", c.workload, st)
			}
			t.Logf("guard state on %s: %+v", c.workload, st)

			// The referee: Helm recorded the rollback; kubectl sees the
			// set's rollout complete; every pod runs v1 and is Ready.
			if line := refereeHistory(t, ns, "stack").Line(3); line != `3 deployed stack-1.0.0 "Rollback to 1"` {
				t.Errorf("helm history revision 3: %s", line)
			}
			rolloutStatus(t, ns, c.workload)
			pods := sb.Pods(t, ns, c.pods)
			if len(pods) == 0 {
				t.Errorf("no pods %s after the rollback", c.pods)
			}
			for _, p := range pods {
				if img := p.Spec.Containers[0].Image; img != c.image || !rollout.PodReady(&p) {
					t.Errorf("pod %s runs %s (ready %v) after the rollback, want %s Ready", p.Name, img, rollout.PodReady(&p), c.image)
				}
			}

			clitest.WaitFor(t, 30*time.Second, "the incident is closed", func() bool {
				es, err := journal.Read(journalDir, st.Incident)
				return err == nil && clitest.CountActions(es, journal.ActionIncidentClosed) == 1
			})
			rel := clitest.JournalEntries(t, journalDir, st.Incident, "helmrelease/stack")
			if clitest.CountActions(rel, journal.ActionStepStarted) != 1 || clitest.CountActions(rel, journal.ActionStepCompleted) != 1 {
				t.Errorf("journal of helmrelease/stack: %+v; want the step started and completed once", rel)
			}
			// Written: Helm's rollback once; for the StatefulSet, the
			// replacement of the stuck pod db-2 too (and no other pod).
			written := map[string][]string{}
			for _, e := range rel {
				if e.Action == journal.ActionStepWritten {
					src, _ := e.Inputs["source"].(string)
					detail, _ := e.Inputs["detail"].(string)
					written[src] = append(written[src], detail)
				}
			}
			if n := clitest.CountActions(rel, journal.ActionStepWritten); len(written["helm"]) != 1 || n != 1+len(c.replaced) {
				t.Errorf("journal of helmrelease/stack writes %q; want Helm's rollback once, then the replacement of %v", written, c.replaced)
			}
			for i, pod := range c.replaced {
				if i >= len(written["rollout"]) || !strings.Contains(written["rollout"][i], "deleted pod "+pod+" ") {
					t.Errorf("journal of helmrelease/stack: pod %s not replaced: %q", pod, written["rollout"])
				}
			}
			out := ctl.Stdout() + ctl.Stderr()
			mustNotContain(t, "controller output", out, "s3cret-sets-one", "s3cret-sets-two")
			j, _ := os.ReadFile(filepath.Join(journalDir, st.Incident+".jsonl"))
			mustNotContain(t, "journal", string(j), "s3cret-sets-one", "s3cret-sets-two")
		})
	}
}

// writeValues writes values into a file for helm's -f and returns its path.
func writeValues(t *testing.T, values map[string]any) string {
	t.Helper()
	b, err := json.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "values.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
