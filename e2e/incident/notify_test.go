//go:build e2e

package incident_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/journal"
)

// TestNotificationsDownOrSlow: the webhook receiver is down and the Slack
// receiver is slower than the timeout; the rollback completes anyway and the
// failures are in the journal and the report.
func TestNotificationsDownOrSlow(t *testing.T) {
	ns := sb.Namespace(t)
	goodApp(t, ns)
	badRelease(t, ns)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	down := "http://" + l.Addr().String() + "/down?token=tok-Incident-44x"
	l.Close()
	slow := newReceiver(t, 8*time.Second)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, webhookEnv: "ROLLBACK_WEBHOOK_URL", steps: []string{"app"}})
	// Add a Slack channel that points at the slow receiver.
	b, err := os.ReadFile(rb)
	must(t, err)
	text := strings.Replace(string(b), "notifications:\n", "notifications:\n  slack:\n    webhookURLFromEnv: SLACK_WEBHOOK_URL\n", 1)
	must(t, os.WriteFile(rb, []byte(text), 0o644))
	journalDir := filepath.Join(dir, "incidents")
	env := map[string]string{"ROLLBACK_WEBHOOK_URL": down, "ROLLBACK_WEBHOOK_SECRET": webhookSecret, "SLACK_WEBHOOK_URL": slow.url}

	start := time.Now()
	r := rollback(t, env, "run", "-f", rb, "--yes", "--accept-no-go", "--journal-dir", journalDir, "--settle", "1s")
	if r.Code != 0 {
		t.Fatalf("run with broken notifications: exit %d, want 0", r.Code)
	}
	t.Logf("run took %s with broken notifications", time.Since(start))
	if img := deployment(t, ns).Spec.Template.Spec.Containers[0].Image; img != "registry.example/vibestack-app:v1" {
		t.Errorf("image = %s, want v1", img)
	}
	id := incidentID.FindString(r.All())
	entries, err := journal.Read(journalDir, id)
	must(t, err)
	failed := map[string]int{}
	for _, e := range entries {
		if e.Action == "notify.failed" {
			ch, _ := e.Inputs["channel"].(string)
			failed[ch]++
		}
	}
	if failed["webhook"] == 0 || failed["slack"] == 0 {
		t.Errorf("notify.failed entries per channel = %v, want webhook and slack", failed)
	}
	report, err := os.ReadFile(filepath.Join(journalDir, id+".md"))
	must(t, err)
	mustContain(t, "report", string(report), "webhook", "slack")
	journalText, _ := os.ReadFile(filepath.Join(journalDir, id+".jsonl"))
	for _, text := range []string{r.All(), string(report), string(journalText)} {
		if strings.Contains(text, "tok-Incident-44x") || strings.Contains(text, webhookSecret) {
			t.Error("a notification secret leaked into the output, journal or report")
		}
	}
}
