package command

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vibestack/rollback/pkg/redact"
	"github.com/vibestack/rollback/pkg/runbook"
)

// secretURLFlags name the flags whose values are URLs that may carry
// credentials (userinfo, token parameters).
var secretURLFlags = map[string]bool{"database": true, "check-url": true, "prom-url": true}

// runbookURLSecrets returns the secret parts of the URLs a runbook names
// (health checks, Prometheus) and of the database URL.
func runbookURLSecrets(rb *runbook.Runbook, databaseURL string) []string {
	out := redact.URLSecrets(databaseURL)
	for _, h := range rb.HealthChecks.HTTP {
		out = append(out, redact.URLSecrets(h.URL)...)
	}
	if p := rb.HealthChecks.Prometheus; p != nil {
		out = append(out, redact.URLSecrets(p.URL)...)
	}
	return out
}

// urlSecrets returns the secret parts of urls.
func urlSecrets(urls ...string) []string {
	var out []string
	for _, u := range urls {
		out = append(out, redact.URLSecrets(u)...)
	}
	return out
}

// registerSecretFlags tells red the secret parts of the URLs given to cmd's
// flags and of $DATABASE_URL, so that no output repeats them.
func registerSecretFlags(cmd *cobra.Command, red *redact.Redactor) {
	red.AddURL(os.Getenv("DATABASE_URL"))
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if !secretURLFlags[fl.Name] {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			red.AddURL(sv.GetSlice()...)
			return
		}
		red.AddURL(fl.Value.String())
	})
}
