package preflight

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/outcome"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		name     string
		statuses []Status
		wantGo   bool
		problems int
	}{
		{"none", nil, true, 0},
		{"all ok", []Status{OK, OK}, true, 0},
		{"warnings are not problems", []Status{OK, Warn, Warn}, true, 0},
		{"a failure", []Status{OK, Fail, Warn}, false, 1},
		{"unknown is never ok", []Status{OK, Unknown}, false, 1},
		{"both", []Status{Fail, Unknown, Fail}, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var checks []Check
			for _, s := range tt.statuses {
				checks = append(checks, Check{Status: s})
			}
			gotGo, n := Verdict(checks)
			if gotGo != tt.wantGo || n != tt.problems {
				t.Errorf("Verdict = %t, %d; want %t, %d", gotGo, n, tt.wantGo, tt.problems)
			}
		})
	}
}

func TestSymbols(t *testing.T) {
	for s, want := range map[Status]string{OK: "✓", Warn: "!", Fail: "✗", Unknown: "?", "": "?"} {
		if got := s.Symbol(); got != want {
			t.Errorf("%q.Symbol() = %q, want %q", s, got, want)
		}
	}
}

var when = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

func goReport() *Report {
	checks := []Check{
		{Cluster: "prod", Group: GroupAccess, Name: "deployments.apps", Status: OK, Detail: "user alice may get, list, watch, patch, update"},
		{Cluster: "prod", Group: GroupRevisions, Name: "vibestack-app", Status: OK, Detail: "current 2 (vibestack:v2) -> target 1 (vibestack:v1): last known good revision 1; diff: app image: vibestack:v2 -> vibestack:v1"},
		{Cluster: "prod", Group: GroupPods, Name: "vibestack-app", Status: Warn, Detail: "0/3 ready, 12 restarts"},
		{Cluster: "prod", Group: GroupOwners, Name: "vibestack-app", Status: OK, Detail: "no operator, Argo CD, Flux or Helm owner"},
		{Group: GroupNotifications, Name: "channels", Status: Warn, Detail: "no notification channel in the runbook", Fix: "tell the stakeholders by hand"},
	}
	ok, n := Verdict(checks)
	return &Report{App: "vibestack-app", Checks: checks, Go: ok, Problems: n, Time: when,
		Escalation: []string{"primary: Ana (+1 555 0100)"}}
}

func noGoReport() *Report {
	r := goReport()
	r.Checks[0] = Check{Cluster: "prod", Group: GroupAccess, Name: "deployments.apps", Status: Fail,
		Detail: "user bob may not patch, update deployments.apps in namespace shop (needed to undo and watch the Deployments)",
		Fix:    "ask a cluster admin for: kubectl create role ..."}
	r.Checks = append(r.Checks, Check{Group: GroupMonitoring, Name: "prometheus error-rate", Status: Unknown,
		Detail: "connection refused from Prometheus at http://127.0.0.1:1", Fix: "cannot verify the rollback without monitoring"})
	r.Go, r.Problems = Verdict(r.Checks)
	return r
}

func TestWriteGolden(t *testing.T) {
	multi := goReport()
	multi.Checks = append(multi.Checks, Check{Cluster: "dr", Group: GroupAccess, Name: "deployments.apps", Status: OK, Detail: "user alice may get"})
	noEsc := noGoReport()
	noEsc.Escalation = nil
	tests := []struct {
		name  string
		r     *Report
		color bool
	}{
		{"go", goReport(), false},
		{"no-go", noGoReport(), false},
		{"no-go-color", noGoReport(), true},
		{"multi-cluster", multi, false},
		{"no-escalation", noEsc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			Write(&b, tt.r, tt.color)
			golden(t, "write-"+tt.name, b.String())
			if !tt.color && strings.Contains(b.String(), "\x1b[") {
				t.Error("colors without color")
			}
		})
	}
}

func TestReportErr(t *testing.T) {
	tests := []struct {
		name string
		r    *Report
		want string
	}{
		{"go", goReport(), ""},
		{"no-go", noGoReport(), "preflight: NO-GO: 2 problems; fix them or call Ana (+1 555 0100)"},
		{"one problem, no contacts", &Report{Problems: 1}, "preflight: NO-GO: 1 problem; fix them or call the primary on-call (no escalation contacts in the runbook)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Err()
			got := ""
			if err != nil {
				got = err.Error()
				if outcome.KindOf(err) != outcome.Refused {
					t.Errorf("exit code %d, want %d", outcome.KindOf(err), outcome.Refused)
				}
			}
			if got != tt.want {
				t.Errorf("Err() = %q, want %q", got, tt.want)
			}
		})
	}
}
