package notify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/runbook"
)

// FromRunbook returns the channels n configures, reading every URL, key and
// secret from the environment through getenv, and the secret values, for
// redaction. An environment variable that is named but empty is a refusal
// (exit code 2) naming the variable to set.
func FromRunbook(n runbook.Notifications, getenv func(string) string, hc *http.Client) (channels []Channel, secrets []string, err error) {
	var missing []string
	need := func(name, what string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			missing = append(missing, fmt.Sprintf("%s (%s)", name, what))
		} else {
			secrets = append(secrets, v)
		}
		return v
	}
	var bad []string
	if s := n.Slack; s != nil {
		u := need(s.WebhookURLFromEnv, "the Slack incoming webhook URL")
		secrets = append(secrets, redact.WebhookURLSecrets(u)...)
		if u != "" {
			if _, err := newEndpoint("slack", u); err != nil {
				bad = append(bad, s.WebhookURLFromEnv+" is not an http(s) URL (value not shown)")
			}
			channels = append(channels, NewSlack(u, hc))
		}
	}
	if w := n.Webhook; w != nil {
		u := need(w.URLFromEnv, "the webhook URL")
		secrets = append(secrets, redact.WebhookURLSecrets(u)...)
		var secret []byte
		if w.HMACSecretFromEnv != "" {
			secret = []byte(need(w.HMACSecretFromEnv, "the webhook HMAC signing secret"))
		}
		if u != "" {
			if _, err := newEndpoint("webhook", u); err != nil {
				bad = append(bad, w.URLFromEnv+" is not an http(s) URL (value not shown)")
			}
			channels = append(channels, NewWebhook(u, secret, hc))
		}
	}
	if p := n.PagerDuty; p != nil {
		if k := need(p.RoutingKeyFromEnv, "the PagerDuty Events v2 routing key"); k != "" {
			channels = append(channels, NewPagerDuty(k, p.EventsURL, hc))
		}
	}
	if len(missing) > 0 {
		what := "environment variable %s is empty"
		if len(missing) > 1 {
			what = "environment variables %s are empty"
		}
		return nil, secrets, outcome.AsRefused(fmt.Errorf("configure notifications: "+what+": export them, or remove the channel from notifications in rollback.yaml", strings.Join(missing, ", ")))
	}
	if len(bad) > 0 {
		return nil, secrets, outcome.AsRefused(errors.New("configure notifications: " + strings.Join(bad, "; ") + ": export it like https://host/path"))
	}
	return channels, secrets, nil
}
