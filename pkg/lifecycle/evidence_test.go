package lifecycle

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/promquery"
)

func analysis() evidence.Analysis {
	return evidence.Analysis{Verdict: promquery.Fail, Reason: "analysis failed: url: HTTP 500 (password=hunter2)",
		Rounds: [][]promquery.Sample{{{Check: "url", Outcome: promquery.Fail, Detail: "HTTP 500"}}}}
}

func TestCollectKeepsTheBundleBesideTheJournal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in, err := Open(ctx, Options{App: "web", Actor: "ana@laptop", JournalDir: dir, Secrets: []string{"hunter2"}})
	if err != nil {
		t.Fatal(err)
	}
	ev := in.Collect(ctx, "guard", analysis())
	if ev == nil || ev.Bundle != EvidencePath(dir, in.ID(), 1) {
		t.Fatalf("evidence %+v, want the bundle at %s", ev, EvidencePath(dir, in.ID(), 1))
	}
	if st, err := os.Stat(ev.Bundle); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bundle: %v %v", st, err)
	}
	if again := in.Collect(ctx, "guard", analysis()); again != nil {
		t.Error("a second Collect in the same incident collected again")
	}
	a, err := evidence.ReadFile(ev.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range a.Files {
		if strings.Contains(string(data), "hunter2") {
			t.Errorf("%s holds the secret", name)
		}
	}
	es := in.Entries()
	e := es[len(es)-1]
	if e.Action != journal.ActionEvidenceCollected || e.Result != journal.ResultOK || e.Target != "evidence/"+in.ID()+".evidence.tar.gz" {
		t.Fatalf("entry %+v", e)
	}
	after := e.After.(map[string]any)
	if after["bundle"] != ev.Bundle || after["files"] != float64(2) {
		t.Errorf("after %+v", after)
	}
	if _, err := in.Close(ctx, Closing{Result: journal.ResultOK}); err != nil {
		t.Fatal(err)
	}
	report, _ := os.ReadFile(in.ReportPath())
	if !strings.Contains(string(report), "### What the evidence shows") || !strings.Contains(string(report), "Verdict fail after 1 round(s)") {
		t.Errorf("report:\n%s", report)
	}

	// The next bundle of the same incident gets the next name.
	in2, err := Open(ctx, Options{ID: in.ID(), Resume: true, App: "web", JournalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Abandon()
	if ev2 := in2.Collect(ctx, "guard", analysis()); ev2 == nil || ev2.Bundle != EvidencePath(dir, in.ID(), 2) {
		t.Errorf("second bundle %+v, want %s", ev2, EvidencePath(dir, in.ID(), 2))
	}
}

func TestCollectOffRecordsThatNothingWasCollected(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lim := evidence.DefaultLimits()
	lim.Budget = 0
	in, err := Open(ctx, Options{App: "web", JournalDir: dir, Evidence: &lim})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Abandon()
	if ev := in.Collect(ctx, "app", analysis()); ev != nil {
		t.Errorf("collected %+v with a zero budget", ev)
	}
	es := in.Entries()
	if len(es) != 1 || es[0].Result != journal.ResultSkipped {
		t.Errorf("entries %+v, want one skipped evidence entry", es)
	}
	if _, err := os.Stat(EvidencePath(dir, in.ID(), 1)); err == nil {
		t.Error("a bundle was written")
	}
}

func TestOneStepRefusesBadEvidenceLimits(t *testing.T) {
	lim := evidence.DefaultLimits()
	lim.Budget = -time.Second
	dir := t.TempDir()
	_, err := OneStep{Options: Options{JournalDir: dir, Evidence: &lim}, Step: "app"}.Run(context.Background(), nil)
	if err == nil {
		t.Fatal("accepted a negative budget")
	}
	if l, _ := journal.List(dir); len(l) != 0 {
		t.Errorf("incidents recorded: %+v", l)
	}
}
