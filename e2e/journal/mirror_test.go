//go:build e2e

package journal_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/journal"
)

// TestTwoEngineersOneTimeline: two engineers on two machines (two local
// journal directories) write the same incident; the cluster mirror holds
// one timeline with every entry, and "incident show --cluster" prints it.
func TestTwoEngineersOneTimeline(t *testing.T) {
	ns := sb.Namespace(t)
	cms := sb.Clientset.CoreV1().ConfigMaps(ns)
	id := journal.NewID(clock.RealClock{}.Now())
	secret := "postgres://app:Hunter2-s3cret@db:5432/shop"
	open := func(actor string) *journal.Journal {
		j, err := journal.Open(journal.Options{Dir: t.TempDir(), Incident: id, Actor: actor,
			Mirror: &journal.ConfigMapMirror{ConfigMaps: cms, App: "vibestack-app"}, Redact: []string{secret}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		return j
	}
	ana, bo := open("ana@laptop"), open("bo@desk")

	appendOK := func(j *journal.Journal, e journal.Entry) journal.Entry {
		t.Helper()
		got, err := j.Append(ctx(t), e)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	appendOK(ana, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "vibestack-app", "reason": "v2 crashes", "database": secret}})
	appendOK(ana, journal.Entry{Step: "app", Action: "step.started", Target: "deployment/web"})
	ana.Flush(ctx(t))
	appendOK(bo, journal.Entry{Step: "flag", Action: "flag.disabled", Target: "new-checkout", Before: "true", After: "false", Result: "ok"})
	bo.Flush(ctx(t))
	if m, err := journal.ReadMirror(ctx(t), cms, id); err != nil || len(m) != 3 || m[2].Action != "flag.disabled" || m[2].Seq != 3 {
		t.Errorf("mirror after bo's first entry: %+v, %v; want it as #3, after ana's two", m, err)
	}
	// Both write at once: no entry may be lost.
	var wg sync.WaitGroup
	for i, j := range []*journal.Journal{ana, bo, ana, bo} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := j.Append(ctx(t), journal.Entry{Step: "notify", Action: "notify.sent", Inputs: map[string]any{"channel": "slack", "n": i}, Result: "ok"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Append returns once an entry is on disk; the mirror follows a moment
	// later. Both catch up before ana goes on, so that every entry above is
	// in the mirror before her close.
	ana.Flush(ctx(t))
	bo.Flush(ctx(t))
	start := time.Now()
	for range 20 {
		appendOK(ana, journal.Entry{Step: "app", Action: "step.progress", Target: "deployment/web"})
	}
	t.Logf("append with cluster mirror (in the background): %v per entry (20 entries)", time.Since(start)/20)
	ana.Flush(ctx(t))
	t.Logf("until the mirror holds them: %v per entry", time.Since(start)/20)
	appendOK(ana, journal.Entry{Action: journal.ActionIncidentClosed, Result: "ok"})
	for _, j := range []*journal.Journal{ana, bo} {
		j.Flush(ctx(t))
		if errs := j.MirrorErrors(); len(errs) > 0 {
			t.Errorf("mirror errors: %v", errs)
		}
	}

	got, err := journal.ReadMirror(ctx(t), cms, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 28 {
		t.Fatalf("mirror has %d entries, want 28 (ana 25 + bo 3)", len(got))
	}
	seen := map[int]bool{}
	for _, e := range got {
		if seen[e.Seq] {
			t.Errorf("seq %d twice in the mirror", e.Seq)
		}
		seen[e.Seq] = true
	}
	if got[0].Action != journal.ActionIncidentOpened || got[len(got)-1].Action != journal.ActionIncidentClosed {
		t.Errorf("mirror timeline starts with %s and ends with %s", got[0].Action, got[len(got)-1].Action)
	}
	cm, err := cms.Get(ctx(t), "rollback-"+id, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Labels[journal.LabelIncident] != id || cm.Labels[journal.LabelApp] != "vibestack-app" || cm.Labels[journal.LabelManagedBy] != "rollback" {
		t.Errorf("labels %v", cm.Labels)
	}
	raw, _ := json.Marshal(cm)
	if strings.Contains(string(raw), "Hunter2") {
		t.Errorf("mirror ConfigMap holds the database password")
	}

	code, out, _ := run(t, "incident", "show", id, "--cluster", "-n", ns)
	for _, want := range []string{"incident.opened", "ana@laptop", "bo@desk", "flag.disabled", "new-checkout", "incident.closed"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("incident show --cluster: code %d, output lacks %q", code, want)
		}
	}
	code, out, _ = run(t, "incident", "show", id, "--cluster", "-n", ns, "-o", "json")
	var shown []journal.Entry
	if err := json.Unmarshal([]byte(out), &shown); err != nil || code != 0 || len(shown) != 28 {
		t.Errorf("incident show -o json: code %d, %d entries, %v", code, len(shown), err)
	}
	code, out, _ = run(t, "incident", "list", "--cluster", "-n", ns)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "vibestack-app") || !strings.Contains(out, "ok") {
		t.Errorf("incident list --cluster: code %d\n%s", code, out)
	}
	code, out, _ = run(t, "incident", "report", id, "--cluster", "-n", ns)
	if code != 0 || !strings.Contains(out, "# Incident report: "+id+" (vibestack-app)") || !strings.Contains(out, "bo@desk") || strings.Contains(out, "Hunter2") {
		t.Errorf("incident report --cluster: code %d\n%s", code, out)
	}
	code, _, errOut := run(t, "incident", "show", "inc-20990101-000000-0000", "--cluster", "-n", ns)
	if code != 2 || !strings.Contains(errOut, "incident list --cluster") {
		t.Errorf("show of an unknown incident: code %d, %q", code, errOut)
	}
}

// TestLocalJournalCLI: list, show and report read the local journal files.
func TestLocalJournalCLI(t *testing.T) {
	dir := t.TempDir()
	id := journal.NewID(clock.RealClock{}.Now())
	j, err := journal.Open(journal.Options{Dir: dir, Incident: id, Actor: "ana@laptop"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []journal.Entry{
		{Action: journal.ActionIncidentOpened, Inputs: map[string]any{"app": "vibestack-app", "escalation": []string{"primary: Ana (+1 555 0100)"}}},
		{Step: "app", Action: "step.completed", Target: "deployment/web", Result: "ok", Before: map[string]any{"revision": 5}, After: map[string]any{"revision": 6}},
		{Step: "notify", Action: "notify.failed", Inputs: map[string]any{"channel": "webhook", "kind": "started", "attempts": 3}, Result: "failed", Error: "webhook post (127.0.0.1:9): connection refused"},
	} {
		if _, err := j.Append(ctx(t), e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	code, out, _ := run(t, "incident", "list", "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "open") {
		t.Errorf("incident list: %d\n%s", code, out)
	}
	code, out, _ = run(t, "incident", "show", id, "--journal-dir", dir)
	if code != 0 || !strings.Contains(out, "error: webhook post (127.0.0.1:9): connection refused") {
		t.Errorf("incident show: %d\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "report.md")
	code, out, _ = run(t, "incident", "report", id, "--journal-dir", dir, "--out", file)
	data, err := os.ReadFile(file)
	if code != 0 || err != nil || strings.TrimSpace(out) != file {
		t.Fatalf("incident report --out: %d, %v", code, err)
	}
	for _, want := range []string{"| revision | 5 | 6 |", "FAILED: webhook post", "- primary: Ana (+1 555 0100)", "## Root cause analysis"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("report lacks %q:\n%s", want, data)
		}
	}
	if code, _, errOut := run(t, "incident", "show", "../../etc/passwd", "--journal-dir", dir); code != 2 || !strings.Contains(errOut, "invalid incident id") {
		t.Errorf("bad id: %d %q", code, errOut)
	}
}
