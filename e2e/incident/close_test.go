//go:build e2e

package incident_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/lifecycle"
)

// TestCloseByHand: `rollback app undo` killed right after step.started
// leaves its incident open and its workload lock behind. `rollback
// incident close` refuses a missing reason and an unknown id, refuses
// while a live process renews the incident's lock (writing nothing), and
// once that process is gone takes the lock over after its lease duration
// and closes the incident in the journal and its mirror; list, show
// --cluster and report see it closed, a second close is a no-op, and prune
// then removes it.
func TestCloseByHand(t *testing.T) {
	bin := binary(t)
	ns := sb.Namespace(t)
	goodApp(t, ns)
	badImage(t, ns)
	jd := filepath.Join(t.TempDir(), "incidents")
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	leases := sb.Clientset.CoordinationV1().Leases(ns)
	workload := "deployment/" + deployName

	killed := start(t, bin, map[string]string{command.FaultEnv: "step.started@app"},
		"app", "undo", workload, "--yes", "-n", ns, "--journal-dir", jd, "--reason", "bad image", "--settle", "1s").Wait(t, 3*time.Minute)
	if killed.Code != -1 {
		t.Fatalf("app undo with %s=step.started@app: exit %d, want killed\n%s", command.FaultEnv, killed.Code, killed.All())
	}
	id := incidentID.FindString(killed.Stderr)
	if id == "" {
		t.Fatalf("no incident id in the killed undo's output:\n%s", killed.Stderr)
	}
	close := func(args ...string) result {
		return rollback(t, nil, append([]string{"incident", "close", id, "-n", ns, "--journal-dir", jd}, args...)...)
	}
	if r := rollback(t, nil, "incident", "list", "--journal-dir", jd); r.Code != 0 || !strings.Contains(r.Stdout, id) || !strings.Contains(r.Stdout, " open ") {
		t.Fatalf("incident list after the kill: exit %d\n%s", r.Code, r.All())
	}
	if r := rollback(t, nil, "incident", "prune", "--older-than", "1s", "--journal-dir", jd); !strings.Contains(r.Stdout, "rollback incident close "+id+" --reason") {
		t.Errorf("prune of the open incident does not name the way out:\n%s", r.All())
	}

	// Refusals that change nothing.
	if r := close(); r.Code != 2 || !strings.Contains(r.Stderr, "--reason is required") {
		t.Errorf("close without --reason: exit %d\n%s", r.Code, r.All())
	}
	if r := rollback(t, nil, "incident", "close", "inc-20200101-000000-ffff", "-n", ns, "--journal-dir", jd, "--reason", "x"); r.Code != 2 || !strings.Contains(r.Stderr, "no journal in") {
		t.Errorf("close of an unknown id: exit %d\n%s", r.Code, r.All())
	}

	// The killed process's lease stays; a live process of the same
	// incident (a second engineer's resume) holds it instead and renews it.
	lease := clusterlock.LeaseName(workload)
	got, err := leases.Get(ctxT(t), lease, metav1.GetOptions{})
	must(t, err)
	if got.Annotations[clusterlock.AnnotationIncident] != id {
		t.Fatalf("lease %s left by the killed undo is for %q, want %s", lease, got.Annotations[clusterlock.AnnotationIncident], id)
	}
	must(t, leases.Delete(ctxT(t), lease, metav1.DeleteOptions{}))
	live := &clusterlock.Lock{Leases: leases, Clock: clock.RealClock{}, Name: workload, Holder: "ana@laptop", Process: "live1", Incident: id, Duration: 3 * time.Second}
	held, err := live.Acquire(ctxT(t))
	must(t, err)
	kctx, stop := context.WithCancel(context.Background())
	kept := make(chan error, 1)
	go func() { kept <- held.KeepAlive(kctx) }()
	defer stop()

	before, err := journal.Read(jd, id)
	must(t, err)
	mirrorBefore, err := journal.ReadMirror(ctxT(t), cms, id)
	must(t, err)
	r := close("--reason", "undo was killed")
	if r.Code != 2 {
		t.Fatalf("close while a live process renews the lock: exit %d, want 2\n%s", r.Code, r.All())
	}
	mustContain(t, "refusal", r.Stderr, "ana@laptop", "live1", "renewed while this rollback watched it", "nothing was written")
	after, err := journal.Read(jd, id)
	must(t, err)
	mirrorAfter, err := journal.ReadMirror(ctxT(t), cms, id)
	must(t, err)
	if len(after) != len(before) || len(mirrorAfter) != len(mirrorBefore) {
		t.Errorf("the refused close wrote: journal %d -> %d entries, mirror %d -> %d", len(before), len(after), len(mirrorBefore), len(mirrorAfter))
	}

	// The live process dies (stops renewing, never releases): close waits
	// until the lease stayed unchanged for its duration and takes it over.
	stop()
	must(t, <-kept)
	r = close("--reason", "undo was killed; rolled back with kubectl", "--result", "resolved")
	if r.Code != 0 {
		t.Fatalf("close after the holder died: exit %d\n%s", r.Code, r.All())
	}
	mustContain(t, "close output", r.Stdout, "closed by hand: resolved", "took over and released "+ns+"/"+lease, "ana@laptop (process live1)", "mirror:  configmap "+ns+"/"+journal.MirrorName(id))
	if _, err := leases.Get(ctxT(t), lease, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("lease %s after the close: %v, want released", lease, err)
	}
	entries, err := journal.Read(jd, id)
	must(t, err)
	last := entries[len(entries)-1]
	if last.Action != journal.ActionIncidentClosed || last.Step != lifecycle.StepClose || last.Result != journal.ResultOK || last.Inputs["outcome"] != "resolved" ||
		last.Inputs["reason"] != "undo was killed; rolled back with kubectl" {
		t.Errorf("journal's last entry %+v, want the closing entry", last)
	}
	mirrored, err := journal.ReadMirror(ctxT(t), cms, id)
	must(t, err)
	if ml := mirrored[len(mirrored)-1]; ml.Action != journal.ActionIncidentClosed || ml.Step != lifecycle.StepClose || ml.Inputs["reason"] != last.Inputs["reason"] {
		t.Errorf("mirror's last entry %+v, want the closing entry", ml)
	}
	if r := rollback(t, nil, "incident", "show", id, "--cluster", "-n", ns); r.Code != 0 || !strings.Contains(r.Stdout, "incident.closed") || !strings.Contains(r.Stderr, ": ok,") {
		t.Errorf("incident show --cluster: exit %d\n%s", r.Code, r.All())
	}
	if r := rollback(t, nil, "incident", "list", "--journal-dir", jd); r.Code != 0 || strings.Contains(r.Stdout, " open ") {
		t.Errorf("incident list after the close: exit %d\n%s", r.Code, r.All())
	}
	if r := rollback(t, nil, "incident", "report", id, "--journal-dir", jd); r.Code != 0 || !strings.Contains(r.Stdout, "closed by hand (resolved): undo was killed") {
		t.Errorf("incident report: exit %d\n%s", r.Code, r.All())
	}
	if _, err := os.Stat(filepath.Join(jd, id+".md")); err != nil {
		t.Errorf("the close wrote no report: %v", err)
	}

	// Closing again is a no-op.
	if r := close("--reason", "again"); r.Code != 0 || !strings.Contains(r.Stdout, "already closed (ok") {
		t.Errorf("second close: exit %d\n%s", r.Code, r.All())
	}
	if n, err := journal.Read(jd, id); err != nil || len(n) != len(entries) {
		t.Errorf("the second close wrote: %d entries, want %d (%v)", len(n), len(entries), err)
	}

	// Prune can now remove it, locally and in the cluster.
	waitFor(t, time.Minute, "the closed incident older than 1s", func() bool {
		res, err := journal.Prune(ctxT(t), journal.PruneOptions{Dir: jd, OlderThan: time.Second})
		return err == nil && res.Count(journal.PruneWouldRemove) == 1
	})
	if r := rollback(t, nil, "incident", "prune", "--older-than", "1s", "--yes", "--journal-dir", jd); r.Code != 0 || !strings.Contains(r.Stdout, "removed journal, report") {
		t.Errorf("prune: exit %d\n%s", r.Code, r.All())
	}
	if _, err := os.Stat(filepath.Join(jd, id+".jsonl")); !os.IsNotExist(err) {
		t.Errorf("journal after prune: %v", err)
	}
	if r := rollback(t, nil, "incident", "prune", "--older-than", "1s", "--yes", "--cluster", "-n", ns); r.Code != 0 || !strings.Contains(r.Stdout, "removed configmap "+journal.MirrorName(id)) {
		t.Errorf("prune --cluster: exit %d\n%s", r.Code, r.All())
	}
}
