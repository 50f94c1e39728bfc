package guardcontroller

import "github.com/vibestack/rollback/pkg/redact"

// secretsOf returns the secret parts of the settings' URLs (userinfo,
// passwords, token parameters), for the journal's redaction.
func secretsOf(s Settings) []string {
	var out []string
	for _, raw := range append(append([]string{}, s.CheckURLs...), s.PrometheusURL) {
		out = append(out, redact.URLSecrets(raw)...)
	}
	return out
}
