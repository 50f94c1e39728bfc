//go:build e2e

package guard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/guard"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

const (
	webhookToken  = "tok-9Xq2-secret-path"
	webhookSecret = "hmac-Zp4-very-secret"
)

// TestHTTP500RolledBack: a release that answers 500 passes readiness but
// breaches the Prometheus error-rate threshold; guard detects it within
// interval x (failure-limit+1) plus the scrape and rate-window lag, rolls it
// back to the stamped good revision, exits 3, notifies and journals.
func TestHTTP500RolledBack(t *testing.T) {
	a := newApp(t, true)
	rcv := newReceiver(t)
	journalDir := t.TempDir()
	a.release(t, "example/web:http500-v2")
	p := start(t, map[string]string{
		"GUARD_WEBHOOK_URL":    rcv.URL + "/hook/" + webhookToken,
		"GUARD_WEBHOOK_SECRET": webhookSecret,
	}, "guard", "web", "-n", a.ns, "-f", runbookFile(t, a.ns), "--journal-dir", journalDir,
		"--bake", "8s", "--interval", "1s", "--timeout", "60s", "--settle", "2s",
		"--prom-url", a.prom.URL, "--prom-query", errorRate, "--max", "0.05", "-o", "json")
	code := p.Wait(t, 3*time.Minute).Code
	if code != 3 {
		t.Fatalf("exit %d, want 3 (unhealthy: rolled back)", code)
	}
	r := guardResult(t, p)
	if r.Verdict != guard.VerdictRolledBack || r.Analysis != "fail" || r.Undo == nil || r.Undo.ToRevision != 1 {
		t.Fatalf("verdict %s analysis %s undo %+v, want rolled-back to revision 1 on a failed analysis", r.Verdict, r.Analysis, r.Undo)
	}
	if !strings.Contains(r.Reason, "query1") || !strings.Contains(r.Reason, "> max 0.05") {
		t.Errorf("reason %q does not name the breached query", r.Reason)
	}
	// Detection: the bake ends on the first failed round (failure limit 0).
	// Allowed: interval x (failure-limit+1) + 1 s scrape + 5 s rate window.
	if limit := 1*time.Second*(0+1) + 6*time.Second; time.Duration(r.Bake) > limit {
		t.Errorf("breach detected after %s of bake, want <= %s", r.Bake, limit)
	}
	t.Logf("detection %s (rollout %s + bake %s), recovery %s", r.Detection, r.Rollout, r.Bake, r.Recovery)
	if img := a.image(t); img != "example/web:v1" {
		t.Errorf("image %s after the rollback, want example/web:v1", img)
	}
	if bad := a.revision(t, 2); bad.Health != rollout.HealthFailed {
		t.Errorf("revision 2 health %s, want failed", bad.Health)
	}
	// Notification received by the webhook: failed, then succeeded (rolled back).
	kinds := rcv.Kinds()
	if !slices.Contains(kinds, "failed") || !slices.Contains(kinds, "succeeded") {
		t.Errorf("webhook got %v, want failed and succeeded", kinds)
	}
	// Journal: the incident and every action.
	if r.Incident == "" {
		t.Fatal("no incident id in the result")
	}
	entries, err := journal.Read(journalDir, r.Incident)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, string(e.Action))
	}
	for _, want := range []string{"incident.opened", "guard.failed", "lock.acquired", "step.started", "step.completed", "lock.released", "notify.sent", "incident.closed"} {
		if !slices.Contains(actions, want) {
			t.Errorf("journal lacks %s: %v", want, actions)
		}
	}
	// Secrets never appear in output or the journal.
	data, _ := os.ReadFile(filepath.Join(journalDir, r.Incident+".jsonl"))
	for _, where := range map[string]string{"stdout": p.Stdout(), "stderr": p.Stderr(), "journal": string(data)} {
		for _, secret := range []string{webhookToken, webhookSecret} {
			if strings.Contains(where, secret) {
				t.Errorf("a secret (%s...) leaked", secret[:4])
			}
		}
	}
}

// TestGoodReleasePasses: a healthy release survives the bake, is stamped
// known-good by guard, and guard exits 0.
func TestGoodReleasePasses(t *testing.T) {
	a := newApp(t, true)
	a.release(t, "example/web:v2")
	p := start(t, nil, "guard", "web", "-n", a.ns, "--bake", "6s", "--interval", "1s", "--timeout", "60s",
		"--check-url", a.url+"/healthz",
		"--prom-url", a.prom.URL, "--prom-query", errorRate, "--max", "0.05",
		"--prom-query", `sum(up{namespace="{{.namespace}}"})`, "--min", "1")
	if code := p.Wait(t, 2*time.Minute).Code; code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	rev := a.revision(t, 2)
	if rev.Health != rollout.HealthGood || rev.KnownGoodBy != "guard" {
		t.Fatalf("revision 2 health %s by %q, want good by guard", rev.Health, rev.KnownGoodBy)
	}
	if !strings.Contains(strings.Join(strings.Fields(p.Stdout()), " "), "verdict: passed") {
		t.Errorf("stdout lacks the passed verdict:\n%s", p.Stdout())
	}
	if img := a.image(t); img != "example/web:v2" {
		t.Errorf("image %s, want example/web:v2 kept", img)
	}
}

// TestPrometheusDownInconclusive: Prometheus stops during the bake of a
// healthy release. The analysis becomes inconclusive after
// --consecutive-error-limit inconclusive rounds in a row and does what
// --on-inconclusive says; it never passes silently.
func TestPrometheusDownInconclusive(t *testing.T) {
	tests := []struct {
		on         string
		wantCode   int
		verdict    string
		rolledBack bool
		stamped    bool
	}{
		{on: "rollback", wantCode: 3, verdict: guard.VerdictRolledBack, rolledBack: true},
		{on: "fail", wantCode: 3, verdict: guard.VerdictUnhealthy},
		{on: "pass", wantCode: 0, verdict: guard.VerdictPassed, stamped: true},
	}
	for _, tt := range tests {
		t.Run(tt.on, func(t *testing.T) {
			a := newApp(t, true)
			a.release(t, "example/web:v2")
			p := start(t, nil, "guard", "web", "-n", a.ns, "--bake", "10s", "--interval", "1s", "--timeout", "60s", "--settle", "2s",
				"--consecutive-error-limit", "2", "--on-inconclusive", tt.on,
				"--prom-url", a.prom.URL, "--prom-query", errorRate, "--max", "0.05", "-o", "json")
			p.WaitStderr(t, "round 2 ", time.Minute)
			a.prom.Stop()
			code := p.Wait(t, 2*time.Minute).Code
			r := guardResult(t, p)
			if code != tt.wantCode || r.Verdict != tt.verdict || r.Analysis != "inconclusive" {
				t.Fatalf("exit %d verdict %s analysis %s, want exit %d verdict %s analysis inconclusive", code, r.Verdict, r.Analysis, tt.wantCode, tt.verdict)
			}
			if r.Rounds.Inconclusive < 3 {
				t.Errorf("%d inconclusive rounds, want >= 3 (limit 2 in a row)", r.Rounds.Inconclusive)
			}
			if !strings.Contains(r.Reason, "unreachable") && !strings.Contains(r.Reason, "prometheus") {
				t.Errorf("reason %q does not say Prometheus is unreachable", r.Reason)
			}
			img := a.image(t)
			if tt.rolledBack != (img == "example/web:v1") {
				t.Errorf("image %s; rolled back want %v", img, tt.rolledBack)
			}
			rev := a.revision(t, 2)
			if tt.stamped != (rev.Health == rollout.HealthGood) {
				t.Errorf("revision 2 health %s; stamped want %v", rev.Health, tt.stamped)
			}
			if tt.on == "pass" && len(r.Warnings) == 0 {
				t.Errorf("a pass on an inconclusive analysis must carry a warning")
			}
		})
	}
}

// TestCrashLoopRolledBackFast: a crash-looping release is rolled back as
// soon as the pods crash loop, not after progressDeadlineSeconds (600).
func TestCrashLoopRolledBackFast(t *testing.T) {
	a := newApp(t, false)
	a.release(t, "example/web:crash-v2")
	p := start(t, nil, "guard", "web", "-n", a.ns, "--bake", "10s", "--interval", "1s", "--timeout", "5m", "--settle", "2s", "-o", "json")
	code := p.Wait(t, 3*time.Minute).Code
	if code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	r := guardResult(t, p)
	if r.Verdict != guard.VerdictRolledBack || r.Undo == nil || r.Undo.ToRevision != 1 {
		t.Fatalf("verdict %s undo %+v, want rolled-back to 1", r.Verdict, r.Undo)
	}
	if !strings.Contains(r.Reason, "CrashLoopBackOff") {
		t.Errorf("reason %q, want CrashLoopBackOff", r.Reason)
	}
	if time.Duration(r.Detection) > 60*time.Second {
		t.Errorf("detected after %s; the progress deadline is 600s, want well under 60s", r.Detection)
	}
	t.Logf("crash: detection %s, recovery %s, process %s", r.Detection, r.Recovery, p.Elapsed())
	if img := a.image(t); img != "example/web:v1" {
		t.Errorf("image %s, want example/web:v1", img)
	}
}

// TestBadFlags: bad input exits 2 before any change.
func TestBadFlags(t *testing.T) {
	a := newApp(t, false)
	a.release(t, "example/web:http500-v2")
	before := a.history(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"max and min", []string{"--prom-url", "http://127.0.0.1:1", "--prom-query", "up", "--max", "1", "--min", "0"}, "already has a threshold"},
		{"query without threshold", []string{"--prom-url", "http://127.0.0.1:1", "--prom-query", "up"}, "needs a threshold"},
		{"threshold without query", []string{"--max", "1"}, "follow the --prom-query"},
		{"bad duration", []string{"--bake", "5 minutes"}, "invalid argument"},
		{"zero interval", []string{"--interval", "0s"}, "--interval must be positive"},
		{"bad on-inconclusive", []string{"--on-inconclusive", "ignore"}, "rollback, pass or fail"},
		{"query without prom url", []string{"--prom-query", "up", "--min", "1"}, "need --prom-url"},
		{"bad prom url", []string{"--prom-url", "prometheus:9090", "--prom-query", "up", "--min", "1"}, "want http(s)://"},
		{"no deployment", nil, "name the workload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"guard"}, tt.args...)
			if tt.name != "no deployment" {
				args = append([]string{"guard", "web", "-n", a.ns}, tt.args...)
			}
			p := start(t, nil, args...)
			if code := p.Wait(t, time.Minute).Code; code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(p.Stderr(), tt.want) {
				t.Errorf("stderr lacks %q", tt.want)
			}
		})
	}
	after := a.history(t)
	if after.Current != before.Current || len(after.Revisions) != len(before.Revisions) || a.image(t) != "example/web:http500-v2" {
		t.Errorf("bad flags changed the deployment: %+v -> %+v", before, after)
	}
	for _, r := range after.Revisions {
		if r.Number == 2 && (r.Health == rollout.HealthGood || r.Health == rollout.HealthFailed) {
			t.Errorf("bad flags stamped revision 2 %s", r.Health)
		}
	}
}

// TestRunbookQueriesAndFailureLimit: without --prom-query, guard uses the
// runbook's healthChecks (Prometheus URL, queries, HTTP checks); with
// --failure-limit 1 the first failed round is tolerated and the second
// rolls back.
func TestRunbookQueriesAndFailureLimit(t *testing.T) {
	a := newApp(t, true)
	path := writeRunbook(t, a.ns, fmt.Sprintf(`healthChecks:
  http:
    - url: %s/healthz
  prometheus:
    url: %s
    queries:
      - name: error-rate
        query: '%s'
        max: 0.05
`, a.url, a.prom.URL, errorRate))
	a.release(t, "example/web:http500-v2")
	p := start(t, nil, "guard", "web", "-n", a.ns, "-f", path, "--journal-dir", t.TempDir(),
		"--bake", "10s", "--interval", "1s", "--timeout", "60s", "--settle", "2s", "--failure-limit", "1", "-o", "json")
	if code := p.Wait(t, 2*time.Minute).Code; code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	r := guardResult(t, p)
	if r.Verdict != guard.VerdictRolledBack || r.Rounds.Failed != 2 {
		t.Fatalf("verdict %s after %d failed rounds, want rolled-back after 2 (failure limit 1)", r.Verdict, r.Rounds.Failed)
	}
	last := r.Samples[len(r.Samples)-1]
	var names []string
	for _, s := range last {
		names = append(names, s.Check)
	}
	if !slices.Contains(names, "error-rate") || !slices.Contains(names, "url "+a.url+"/healthz") {
		t.Errorf("last round checked %v, want the runbook's error-rate query and health URL", names)
	}
}
