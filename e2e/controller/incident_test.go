//go:build e2e

package controller_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/e2e/webhooktest"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/guardcontroller"
	"github.com/vibestack/rollback/pkg/journal"
)

// TestControllerIncidentNotifiedAndReported: the controller's rollback is
// an incident like any other: the notifications of the runbook given with
// -f reach a real webhook receiver (the bad release, then the verified
// rollback), and the incident's report is written.
func TestControllerIncidentNotifiedAndReported(t *testing.T) {
	ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
	h := webhooktest.New(t, webhooktest.Options{Secret: "whsec-controller-1"})
	dir := t.TempDir()
	rb := filepath.Join(dir, "rollback.yaml")
	if err := os.WriteFile(rb, []byte("apiVersion: rollback.vibestack.dev/v1\nkind: Runbook\napp: guard-controller\n"+
		"clusters:\n  - context: sandbox\n    namespace: "+ns+"\ndeployments: [web]\n"+
		"notifications:\n  webhook:\n    urlFromEnv: GUARD_WEBHOOK_URL\n    hmacSecretFromEnv: GUARD_WEBHOOK_SECRET\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newDeployment(t, ns, "web", "vibestack/app:v1", guardAnnotations(map[string]string{"bake": "3s", "interval": "1s", "settle": "1s"}))
	markGood(t, ns, "web")
	journalDir := filepath.Join(dir, "incidents")
	ctl := startControllerEnv(t, "replica-n", sb.Kubeconfig, map[string]string{"GUARD_WEBHOOK_URL": h.URL + "/hook", "GUARD_WEBHOOK_SECRET": "whsec-controller-1"},
		"-n", ns, "--lease-namespace", leaseNS, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms",
		"-f", rb, "--journal-dir", journalDir)
	eventually(t, 30*time.Second, "the controller leads", func() bool { return ctl.has("replica-n: became the leader") })
	setImage(t, ns, "web", "vibestack/app:crash")
	eventually(t, 90*time.Second, "revision 2 rolled back", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && s.Phase == guardcontroller.PhaseRolledBack
	})
	eventually(t, 30*time.Second, "the notifications of the incident", func() bool {
		k := strings.Join(h.Kinds(), ",")
		return strings.Contains(k, "failed") && strings.Contains(k, "succeeded")
	})
	s := state(t, ns, "web")
	eventually(t, 30*time.Second, "the incident's report", func() bool {
		_, err := os.Stat(filepath.Join(journalDir, s.Incident+".md"))
		return err == nil
	})
	report, err := os.ReadFile(filepath.Join(journalDir, s.Incident+".md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{s.Incident, "guard.failed", "notify.sent"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if h.BadSignatures() != 0 {
		t.Errorf("%d notifications with a wrong signature", h.BadSignatures())
	}
	if strings.Contains(ctl.output(), "whsec-controller-1") || strings.Contains(string(report), "whsec-controller-1") {
		t.Error("the webhook secret is in the controller's output or the report")
	}
	if !json.Valid([]byte(strings.SplitN(strings.TrimSpace(ctl.Stderr()), "\n", 2)[0])) {
		t.Errorf("the controller's log is not JSON lines:\n%s", ctl.Stderr())
	}
}

// TestControllerRespectsTheOperatorsLock: while an operator's rollback
// holds the Deployment's lock (the lock `rollback run` takes), the
// controller does not roll the Deployment back underneath it: it reports
// who holds the lock and leaves the Deployment alone.
func TestControllerRespectsTheOperatorsLock(t *testing.T) {
	ns, leaseNS := sb.Namespace(t), sb.Namespace(t)
	newDeployment(t, ns, "web", "vibestack/app:v1", guardAnnotations(map[string]string{"bake": "3s", "interval": "1s", "settle": "1s"}))
	markGood(t, ns, "web")
	held, err := (&clusterlock.Lock{Leases: sb.Clientset.CoordinationV1().Leases(ns), Clock: clock.RealClock{}, Name: "deployment/web",
		Holder: "alice@laptop", Process: "p-alice", Incident: "inc-operator", Duration: 6 * time.Second}).Acquire(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = held.KeepAlive(kctx) }()

	ctl := startController(t, "replica-l", sb.Kubeconfig, "-n", ns, "--lease-namespace", leaseNS,
		"--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms")
	eventually(t, 30*time.Second, "the controller leads", func() bool { return ctl.has("replica-l: became the leader") })
	setImage(t, ns, "web", "vibestack/app:crash")
	eventually(t, 90*time.Second, "the guard's verdict on revision 2", func() bool {
		s := state(t, ns, "web")
		return s.Revision == 2 && (s.Phase == guardcontroller.PhaseFailed || s.Phase == guardcontroller.PhaseRolledBack)
	})
	s := state(t, ns, "web")
	t.Logf("state: %+v", s)
	if s.Phase != guardcontroller.PhaseFailed || !strings.Contains(s.Reason, "locked by alice@laptop") {
		t.Errorf("phase %s (%s), want failed saying the lock is held by alice@laptop", s.Phase, s.Reason)
	}
	if img := image(getDeployment(t, ns, "web")); img != "vibestack/app:crash" {
		t.Errorf("image %s: the controller changed the Deployment while the operator held its lock", img)
	}
	found := false
	for _, es := range journalEntries(t, ns) {
		for _, e := range es {
			if e.Action == journal.ActionLockRefused {
				found = true
			}
		}
	}
	if !found {
		t.Error("the refused lock is not journaled")
	}
}
