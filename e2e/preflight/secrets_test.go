//go:build e2e

package preflight_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/runbook"
)

// TestNoSecretInOutput: a runbook with a Secret, a database URL with a
// password, a Slack webhook, an HMAC-signed webhook and a PagerDuty key,
// every destination down: no secret value appears on stdout or stderr, as
// text or as JSON.
func TestNoSecretInOutput(t *testing.T) {
	a := newApp(t)
	secretValue := "s3cret-Value-in-the-Secret"
	if _, err := sb.Clientset.CoreV1().Secrets(a.ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "web-secrets", Namespace: a.ns},
		StringData: map[string]string{"API_KEY": secretValue},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	closed := closedAddr(t)
	secrets := map[string]string{
		"PF_SLACK_URL":      "http://" + closed + "/services/T0SLACK/B0HOOK/xoxSlackToken123",
		"PF_WEBHOOK_URL":    "http://" + closed + "/hooks/whTok3n-abc?token=qs-Token-999",
		"PF_WEBHOOK_SECRET": "hmac-Secret-777",
		"PF_PD_KEY":         "pd-Routing-Key-555",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	rb := a.runbook()
	rb.Configs = []runbook.ConfigRef{{Kind: "Secret", Name: "web-secrets"}}
	rb.Notifications = runbook.Notifications{
		Slack:     &runbook.Slack{WebhookURLFromEnv: "PF_SLACK_URL"},
		Webhook:   &runbook.Webhook{URLFromEnv: "PF_WEBHOOK_URL", HMACSecretFromEnv: "PF_WEBHOOK_SECRET"},
		PagerDuty: &runbook.PagerDuty{RoutingKeyFromEnv: "PF_PD_KEY", EventsURL: "http://" + closed + "/v2/enqueue"},
	}
	withDatabase(t, rb, pgtest.ServerURLAt(closedAddr(t))+"/shop")
	path := writeWithMigrations(t, rb)

	forbidden := []string{password, secretValue, base64.StdEncoding.EncodeToString([]byte(secretValue)),
		"xoxSlackToken123", "T0SLACK/B0HOOK", "whTok3n-abc", "qs-Token-999", "hmac-Secret-777", "pd-Routing-Key-555"}
	for _, args := range [][]string{{"preflight", "-f", path}, {"preflight", "-f", path, "-o", "json"}} {
		code, out, errOut := run(t, args...)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2 (database down)", args, code)
		}
		if !strings.Contains(out, "secrets") {
			t.Errorf("%v: the Secret of the runbook did not add the secrets access check", args)
		}
		for _, s := range forbidden {
			if strings.Contains(out, s) || strings.Contains(errOut, s) {
				t.Errorf("%v: secret %q in output", args, s)
			}
		}
	}
}
