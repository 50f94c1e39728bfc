package helmtarget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// fakeAgentEnv makes the test binary a stand-in for rollback-helm: it
// answers the request on stdin as the variable's value says.
const fakeAgentEnv = "HELMTARGET_FAKE_AGENT"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeAgentEnv); mode != "" {
		os.Exit(fakeAgent(mode))
	}
	os.Exit(m.Run())
}

// fakeAgent answers like rollback-helm would: an event, a journal entry
// and the result (mode ok), a refusal (mode refused), or nothing at all
// (mode crash, which dies with a message on stderr).
func fakeAgent(mode string) int {
	raw, _ := io.ReadAll(os.Stdin)
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		return 2
	}
	a := NewAnswer(os.Stdout)
	switch mode {
	case "crash":
		fmt.Fprintln(os.Stderr, "panic: the agent fell over")
		return 2
	case "refused":
		p := &UndoResult{Release: req.Ref.Name, Verdict: VerdictRefused, Plan: &Plan{Release: req.Ref.Name, Reason: "no revision is known good"}}
		_ = a.Finish(p, outcome.AsRefused(errors.New("no revision of release web is known good")))
		return 0
	}
	a.Observe(progress.Event{Kind: progress.Plan, Source: "helm", Message: "Undo helm release " + req.Ref.Name,
		Data: &Plan{Release: req.Ref.Name, From: Revision{Revision: 3}, To: Revision{Revision: 1}}})
	_, _ = a.Append(context.Background(), journal.Entry{Step: "helm", Action: journal.ActionHelmPendingRecovered, Target: req.Ref.Target()})
	// The request's flags and options come back in the result, for the test to check.
	res := &UndoResult{Release: req.Ref.Name, Namespace: req.Ref.Namespace, Verdict: VerdictHealthy, NewRevision: 4,
		Error: strings.Join(append(req.Flags, req.Op, req.Ref.Context, fmt.Sprint(req.Options.Force, req.Options.Verification.Settle)), " ")}
	_ = a.Finish(res, nil)
	return 0
}

func fakeExec(t *testing.T, mode string) *Exec {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Exec{Binary: self, Flags: []string{"--kubeconfig=/k", "--token=t0k"}, Env: append(os.Environ(), fakeAgentEnv+"="+mode)}
}

func TestExecUndo(t *testing.T) {
	var events progress.Recorder
	var entries []journal.Entry
	rec := RecorderFunc(func(_ context.Context, e journal.Entry) (journal.Entry, error) {
		entries = append(entries, e)
		return e, nil
	})
	o := Options{Force: true}
	o.Verification.Settle = 2e9
	res, err := fakeExec(t, "ok").Undo(context.Background(), Ref{Context: "prod", Namespace: "shop", Name: "web"}, o, &events, rec)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewRevision != 4 || res.Verdict != VerdictHealthy || res.Error != "--kubeconfig=/k --token=t0k undo prod true 2s" {
		t.Errorf("result %+v", res)
	}
	evs := events.Events()
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	if p, ok := evs[0].Data.(*Plan); !ok || p.To.Revision != 1 {
		t.Errorf("the plan event's data is %T %+v, want a *Plan", evs[0].Data, evs[0].Data)
	}
	if len(entries) != 1 || entries[0].Action != journal.ActionHelmPendingRecovered || entries[0].Target != "helmrelease/web" {
		t.Errorf("journal entries %+v", entries)
	}
}

func TestExecKeepsTheOutcomeKind(t *testing.T) {
	res, err := fakeExec(t, "refused").Plan(context.Background(), Ref{Namespace: "shop", Name: "web"}, Options{}, nil)
	if outcome.KindOf(err) != outcome.Refused || !strings.Contains(err.Error(), "known good") {
		t.Errorf("error %v (kind %s), want the agent's refusal", err, outcome.KindOf(err))
	}
	if res == nil || res.Plan == nil || res.Verdict != VerdictRefused {
		t.Errorf("result %+v, want the refused plan", res)
	}
}

func TestExecWithoutAnswer(t *testing.T) {
	_, err := fakeExec(t, "crash").Undo(context.Background(), Ref{Namespace: "shop", Name: "web"}, Options{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "ended without an answer") || !strings.Contains(err.Error(), "the agent fell over") {
		t.Errorf("error %v, want one with the program's stderr", err)
	}
}

func TestExecWithoutProgram(t *testing.T) {
	missing := errors.New("rolling back a Helm release needs the rollback-helm program")
	_, err := (&Exec{Missing: missing}).MarkGood(context.Background(), Ref{Name: "web"}, Options{}, nil)
	if !errors.Is(err, missing) {
		t.Errorf("error %v, want %v", err, missing)
	}
}

func TestDetail(t *testing.T) {
	p := &Plan{From: Revision{Revision: 3, Chart: "web-3.0.0", Status: "failed"}, To: Revision{Revision: 1, Chart: "web-1.0.0", Health: HealthGood}, Reason: "why"}
	for _, tt := range []struct {
		r    *UndoResult
		want string
	}{
		{&UndoResult{Plan: p, Verdict: VerdictHealthy, NewRevision: 4, Marked: MarkGood}, "revision 3 -> 1 (web-1.0.0), now 4: healthy, marked good"},
		{&UndoResult{Plan: p, Verdict: VerdictSkipped}, "skipped: why"},
		{&UndoResult{Plan: p, Verdict: VerdictDryRun}, "would roll back through Helm from revision 3 (web-3.0.0, failed) to revision 1 (web-1.0.0, good)"},
		{&UndoResult{Verdict: VerdictRefused}, "refused"},
	} {
		if got := Detail(tt.r); got != tt.want {
			t.Errorf("Detail = %q, want %q", got, tt.want)
		}
	}
}
