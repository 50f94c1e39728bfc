package main

import (
	"fmt"
	"io"
)

// demoRunbook is the demo's rollback.yaml: vibestack-app in namespace
// %[1]s, its configuration, its PostgreSQL database migrated by
// golang-migrate, the HTTP health check %[2]s and signed webhooks.
const demoRunbook = `apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: vibestack-app
clusters:
  - context: sandbox
    namespace: %[1]s
deployments: [vibestack-app]
configs:
  - kind: ConfigMap
    name: vibestack-config
database:
  urlFromEnv: VIBESTACK_DATABASE_URL
  migrationsDir: db/migrations
  tool: migrate
  backupDir: backups
healthChecks:
  http:
    - url: %[2]s
      expectStatus: 200
notifications:
  webhook:
    urlFromEnv: ROLLBACK_WEBHOOK_URL
    hmacSecretFromEnv: ROLLBACK_WEBHOOK_SECRET
escalation:
  primary: {name: Dana (SRE on call), contact: "+1-555-0100"}
  secondary: {name: Eli (SRE backup), contact: "@eli"}
  engineeringLead: {name: Fay (engineering lead), contact: fay@example.com}
steps: [app, config, db]
`

// runbook writes the demo's runbook for namespace ns and health check URL.
func runbook(w io.Writer, ns, healthURL string) error {
	_, err := fmt.Fprintf(w, demoRunbook, ns, healthURL)
	return err
}
