package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/vibestack/rollback/internal/golden"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/promquery"
	"github.com/vibestack/rollback/pkg/rollout"
)

func ptr[T any](v T) *T { return &v }

// evidenceIncident is a guarded release that crash-looped, with its
// evidence collected before the rollback and cut by the budget.
func evidenceIncident() []journal.Entry {
	released, first := at(-40), at(-36)
	sum := evidence.Summary{
		Workloads: []evidence.WorkloadSummary{{
			Workload: "deployment/web", Namespace: "shop", Revision: 5, Images: []string{"vibestack/web:v2"}, Target: 3,
			Released: &released, FirstFailure: &first, FirstFailureAfter: rollout.Duration(4e9),
			FirstFailureWhat: "pod web-5c9-x2 container app exited with code 1 (Error)", Pods: 3, Failing: 3, Warnings: 2,
			Containers: []evidence.ContainerSummary{
				{Pod: "web-5c9-x2", Container: "app", Reason: "CrashLoopBackOff", ExitCode: ptr(int32(1)), ExitReason: "Error", Restarts: 4,
					FirstErrors: []string{`level=error msg="cannot start" err="config key PAYMENT_URL missing"`, "panic: cannot start | *boom*"}},
				{Pod: "web-5c9-y7", Container: "app", Reason: "CreateContainerConfigError", Message: `configmap "web-config-v2" not found`},
			},
			Changes: []rollout.Change{{Container: "app", Field: "image", From: "vibestack/web:v1", To: "vibestack/web:v2"}},
		}},
		Database: &evidence.DatabaseSummary{Database: "shop", Tool: "migrate", Version: 3, PlanTo: ptr(int64(2)), Reverts: []int64{3}},
		Analysis: &evidence.AnalysisSummary{Verdict: "fail", Reason: "analysis failed: error_rate: 0.31 > max 0.05", Rounds: 4,
			Failed: []promquery.Sample{{Check: "error_rate", Value: 0.31, Outcome: promquery.Fail, Detail: "0.31 > max 0.05"}}},
	}
	return entries(
		opened,
		journal.Entry{Time: at(1), Action: "lock.acquired", Target: "lease/rollback-vibestack-app", Result: "ok"},
		journal.Entry{Time: at(2), Step: "guard", Action: journal.ActionEvidenceCollected, Target: "evidence/" + inc + ".evidence.tar.gz", Result: "ok",
			Inputs: map[string]any{"budget": "3s"},
			After: map[string]any{"bundle": "/var/lib/rollback/" + inc + ".evidence.tar.gz", "files": 14, "bytes": 23817, "compressed": 5120,
				"duration": "2.8s", "stoppedBy": "budget", "skipped": 12, "summary": sum,
				"errors": []evidence.SourceError{{Source: "database status", Error: "connection refused"}}}},
		journal.Entry{Time: at(3), Step: "app", Action: "step.started", Target: "deployment/web"},
		journal.Entry{Time: at(9), Action: journal.ActionIncidentClosed, Result: "ok"},
	)
}

func TestWriteEvidenceGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, evidenceIncident()); err != nil {
		t.Fatal(err)
	}
	goldenfile.Assert(t, filepath.Join("testdata", "evidence.md"), buf.Bytes())
	out := buf.String()
	rca := out[strings.Index(out, "## Root cause analysis"):]
	for _, want := range []string{"### What the evidence shows", "First failure seen 4s after the release", "CrashLoopBackOff",
		"1 (Error)", `configmap "web-config-v2" not found`, "The budget limit cut it: 12 items left out", "rollback incident evidence " + inc,
		"image: vibestack/web:v1 -> vibestack/web:v2", "the plan reverts 3 to reach version 2", "| error_rate | fail | 0.31 |", "Verdict fail after 4 round(s)"} {
		if !strings.Contains(rca, want) {
			t.Errorf("the root cause analysis lacks %q:\n%s", want, rca)
		}
	}
}

func TestWriteWithoutEvidenceHasNoEvidenceSection(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, fullIncident()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "What the evidence shows") {
		t.Error("a report without evidence shows an evidence section")
	}
}

// TestWriteRestoreEvidence: a restore's evidence says what version it
// overwrote and which backup replaced it, or why the state is unknown.
func TestWriteRestoreEvidence(t *testing.T) {
	for _, tc := range []struct {
		sum  evidence.DatabaseSummary
		want []string
	}{
		{evidence.DatabaseSummary{Database: "shop", Tool: "goose", Version: 2, Dirty: true, RestoreFrom: "b1", RestoreVersion: ptr(int64(1))},
			[]string{"Before the rollback: version 2 (goose, DIRTY); the restore replaces it with backup b1 (version 1)."}},
		{evidence.DatabaseSummary{RestoreFrom: "b1", RestoreVersion: ptr(int64(1)), Error: "no schema_migrations table"},
			[]string{"Before the rollback: the migration state could not be read; the restore replaces it with backup b1 (version 1).", "State: no schema_migrations table"}},
	} {
		es := evidenceIncident()
		for i := range es {
			if es[i].Action == journal.ActionEvidenceCollected {
				es[i].After.(map[string]any)["summary"] = evidence.Summary{Database: &tc.sum}
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, es); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("report lacks %q:\n%s", w, buf.String())
			}
		}
	}
}
