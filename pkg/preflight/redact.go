package preflight

import (
	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/termsafe"
)

// redactor knows the secret values preflight was given: the notification
// settings' values (a webhook URL's path is its token) and the database
// URL's password.
func (o *Options) redactor() *redact.Redactor {
	r := redact.New()
	for _, s := range o.channelSettings() {
		for _, e := range s.env {
			r.Add(redact.WebhookURLSecrets(o.Getenv(e))...)
		}
	}
	r.AddURL(o.DatabaseURL)
	return r
}

// redactChecks removes every secret and control character (a pod message
// or an Event may hold escape sequences) from the checks' texts.
func redactChecks(checks []Check, r *redact.Redactor) {
	for i := range checks {
		checks[i].Detail = termsafe.String(r.String(checks[i].Detail))
		checks[i].Fix = termsafe.String(r.String(checks[i].Fix))
	}
}
