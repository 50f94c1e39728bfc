//go:build e2e

package preflight_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/runbook"
)

// TestNotifications: a webhook receiver that answers is ✓, a Slack
// webhook nobody listens on is ! (a failed notification never blocks a
// rollback), a PagerDuty key that is not set is ✗ (nobody would be paged).
func TestNotifications(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer receiver.Close()
	a := newApp(t)
	t.Setenv("PF_HOOK_URL", receiver.URL+"/hooks/tok-Hook-123")
	t.Setenv("PF_SLACK_URL", "http://"+closedAddr(t)+"/services/T1/B1/tok-Slack-456")
	t.Setenv("PF_PD_KEY", "")
	rb := a.runbook()
	rb.Notifications = runbook.Notifications{
		Webhook:   &runbook.Webhook{URLFromEnv: "PF_HOOK_URL"},
		Slack:     &runbook.Slack{WebhookURLFromEnv: "PF_SLACK_URL"},
		PagerDuty: &runbook.PagerDuty{RoutingKeyFromEnv: "PF_PD_KEY"},
	}
	code, out, errOut := run(t, "preflight", "-f", write(t, rb))
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (PagerDuty key missing)", code)
	}
	if l := line(t, out, "✓ notifications  webhook"); !strings.Contains(l, "reachable ("+receiver.URL+")") {
		t.Errorf("webhook line %q", l)
	}
	if l := line(t, out, "! notifications  slack"); !strings.Contains(l, "unreachable") {
		t.Errorf("slack line %q", l)
	}
	if l := line(t, out, "✗ notifications  pagerduty"); !strings.Contains(l, "PF_PD_KEY is not set") {
		t.Errorf("pagerduty line %q", l)
	}
	for _, s := range []string{"tok-Hook-123", "tok-Slack-456", "/services/T1/B1"} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("secret %q in output", s)
		}
	}
}
