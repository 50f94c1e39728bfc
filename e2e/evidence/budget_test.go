//go:build e2e

package evidence_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestBudgetOn200FailingPods: a release of 200 crash-looping pods, undone
// with --evidence-budget 1s and --evidence-pods 0 (every pod's logs). What
// the budget guarantees holds: the collection's deadline is the budget less
// its reserve for writing the bundle, every pod's status is kept, and every
// container log is either in the bundle or listed as left out with the
// reason (the budget, when it cut the collection short, which the manifest,
// the journal and the report then say). The measured time is logged, never
// asserted.
func TestBudgetOn200FailingPods(t *testing.T) {
	const n = 200
	ns := sb.Namespace(t)
	journals := filepath.Join(t.TempDir(), "incidents")
	deployment(t, ns, "many", "example/web:v1", 1)
	release(t, ns, "many", `{"replicas":200,"strategy":{"type":"Recreate","rollingUpdate":null},
		"template":{"spec":{"containers":[{"name":"app","image":"example/web:crash-v2"}]}}}`)
	pods, hash := revisionPods(t, ns, "many", n, "200 pods of revision 2 crashed and restarted", restarted)

	start := time.Now()
	r := rollback(t, "app", "undo", "many", "-n", ns, "--yes", "--settle", "1s", "--timeout", "4m", "--journal-dir", journals,
		"--evidence-budget", "1s", "--evidence-pods", "0")
	elapsed := time.Since(start)
	if r.Code != 0 {
		t.Fatalf("app undo: exit %d", r.Code)
	}
	waitGone(t, ns, "many", hash)
	id := onlyIncident(t, journals)
	k := keptEvidence(t, journals, id)
	m := k.manifest
	if m.Limits.Budget != time.Second || m.Limits.Pods != 0 {
		t.Errorf("limits %+v, want the budget 1s and every pod", m.Limits)
	}
	if d := m.Deadline.Sub(m.Started); d != 900*time.Millisecond {
		t.Errorf("the collection's deadline was %s after its start, want 900ms (the 1s budget less 100ms to write the bundle)", d)
	}
	es, err := journal.Read(journals, id)
	must(t, err)
	var locked, started time.Time
	for _, e := range es {
		switch e.Action {
		case journal.ActionLockAcquired:
			locked = e.Time
		case journal.ActionStepStarted:
			started = e.Time
		case journal.ActionEvidenceCollected:
			if after, _ := e.After.(map[string]any); m.StoppedBy != "" && after["stoppedBy"] != m.StoppedBy {
				t.Errorf("the journal's evidence.collected does not say what stopped it (%s): %+v", m.StoppedBy, e.After)
			}
		}
	}
	t.Logf("200 failing pods, budget 1s: collection took %s (deadline %s), stopped by %q; %d files, %d bytes; from the lock to the step's start (collecting and keeping the evidence) %s; the whole undo took %s",
		m.Duration(), m.Deadline.Sub(m.Started), m.StoppedBy, len(m.Files), m.Size(), started.Sub(locked), elapsed)
	wdir := workloadDir(ns, "many")
	if _, ok := k.files[wdir+"/pods.json"]; !ok {
		// A machine too slow to describe 200 pods within the budget: the
		// source was left behind, and the manifest says so.
		if m.StoppedBy != evidence.StoppedByBudget || len(k.skipped("the rest of deployment "+ns+"/many")) != 1 {
			t.Errorf("no pods.json, and the manifest does not say the budget cut the workload: %+v", m.Skipped)
		}
		return
	}
	statuses := podStatuses(t, k, wdir)
	read, cut, other := 0, 0, 0
	for _, p := range pods {
		if s, ok := statuses[p]; !ok || s.Role != evidence.RoleBad {
			t.Errorf("pod %s: %+v; want its status kept as a pod of the revision rolled back", p, s)
		}
		for _, f := range []struct{ file, what string }{{"app.log", "container app"}, {"app.previous.log", "container app (previous run)"}} {
			if _, ok := k.files[wdir+"/logs/"+p+"/"+f.file]; ok {
				read++
				continue
			}
			var why []string
			for _, s := range k.skipped("logs of pod " + p + " " + f.what) {
				if strings.HasSuffix(s.What, f.what) {
					why = append(why, s.Why)
				}
			}
			switch {
			case len(why) == 1 && strings.HasPrefix(why[0], evidence.StoppedByBudget):
				cut++
			case len(why) == 1:
				other++
				t.Logf("pod %s %s left out: %s", p, f.file, why[0])
			case f.file == "app.previous.log" && len(why) == 0:
				other++ // no previous run yet: none to read
			default:
				t.Errorf("pod %s %s: neither kept nor listed as left out once (%v)", p, f.file, why)
			}
		}
	}
	switch m.StoppedBy {
	case evidence.StoppedByBudget:
		if cut == 0 {
			t.Errorf("the manifest says the budget cut the collection, but no log is listed as left out for it")
		}
		checkShown(t, journals, k, "The budget limit cut it")
	case "":
		if cut != 0 {
			t.Errorf("%d logs left out for the budget, but the manifest says nothing cut the collection", cut)
		}
	default:
		t.Errorf("stopped by %q, want the budget or nothing", m.StoppedBy)
	}
	whys := map[string]int{}
	for _, s := range m.Skipped {
		whys[s.Why]++
	}
	t.Logf("logs: %d kept, %d cut by the budget, %d without a separate previous run; left out, by reason: %v", read, cut, other, whys)
}
