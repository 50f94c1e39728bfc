//go:build e2e

package incident_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var incidentID = regexp.MustCompile(`inc-[0-9]{8}-[0-9]{6}-[0-9a-f]+`)

// TestFullIncident: vibestack-app v2 crash-loops with config v2 and
// migration 3; `rollback run --yes` brings back v1, config v1 and migration 2
// with a verified backup, notifies start, progress and end, and writes a
// report with every step. No secret appears anywhere.
func TestFullIncident(t *testing.T) {
	ns := sb.Namespace(t)
	goodApp(t, ns)
	health := service(t, ns)
	dbURL, migDir := database(t)
	badRelease(t, ns)
	rcv := newReceiver(t, 0)
	dir := t.TempDir()
	rb := writeRunbook(t, dir, runbookOpts{ns: ns, migrations: migDir, webhookEnv: "ROLLBACK_WEBHOOK_URL", httpURL: health + "/healthz"})
	journalDir := filepath.Join(dir, "incidents")
	env := map[string]string{"VIBESTACK_DATABASE_URL": dbURL, "ROLLBACK_WEBHOOK_URL": rcv.url, "ROLLBACK_WEBHOOK_SECRET": webhookSecret}

	dry := rollback(t, env, "run", "-f", rb, "--dry-run", "--journal-dir", journalDir)
	if dry.Code != 0 {
		t.Fatalf("dry run: exit %d", dry.Code)
	}
	mustContain(t, "dry run", dry.Stdout, "dry-run", "deployment/vibestack-app", "configmap/vibestack-config", "version 3 -> 2")
	if got := deployment(t, ns).Spec.Template.Spec.Containers[0].Image; got != "registry.example/vibestack-app:crash" {
		t.Fatalf("dry run changed the image to %s", got)
	}

	r := rollback(t, env, "run", "-f", rb, "--yes", "--reason", "v2 crash-loops after the release", "--journal-dir", journalDir, "--settle", "2s")
	if r.Code != 0 {
		t.Fatalf("run: exit %d", r.Code)
	}
	id := incidentID.FindString(r.All())
	if id == "" {
		t.Fatal("no incident id in the output")
	}
	if img := deployment(t, ns).Spec.Template.Spec.Containers[0].Image; img != "registry.example/vibestack-app:v1" {
		t.Errorf("image after run = %s, want v1", img)
	}
	if !available(t, ns) {
		t.Error("deployment not available after the run")
	}
	if got := configData(t, ns); !reflect.DeepEqual(got, configV1) {
		t.Errorf("config after run = %v, want %v", got, configV1)
	}
	if v := dbVersion(t, dbURL); v != 2 {
		t.Errorf("database version after run = %d, want 2", v)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "backups", "*"))
	if len(backups) == 0 {
		t.Error("no backup in the runbook's backup directory")
	}
	mustContain(t, "run output", r.Stdout, "rolled-back", "deployment/vibestack-app", "configmap/vibestack-config", "secret/vibestack-secrets", "database", "report:")

	waitFor(t, 10e9, "the end notification", func() bool {
		k := rcv.Kinds()
		return len(k) > 0 && k[len(k)-1] == "succeeded"
	})
	kinds := strings.Join(rcv.Kinds(), ",")
	if !strings.HasPrefix(kinds, "started,") || strings.Count(kinds, "progress") < 3 || !strings.HasSuffix(kinds, ",succeeded") {
		t.Errorf("webhook got %s, want started, 3 progress, succeeded", kinds)
	}
	if n := rcv.BadSignatures(); n != 0 {
		t.Errorf("%d webhook deliveries had a bad HMAC signature", n)
	}

	report, err := os.ReadFile(filepath.Join(journalDir, id+".md"))
	must(t, err)
	mustContain(t, "report", string(report), id, "deployment/vibestack-app", "configmap/vibestack-config", "database",
		"backup", "Dana On-Call", "+1-555-0100", "Fay Lead", "webhook")
	journalFile, err := os.ReadFile(filepath.Join(journalDir, id+".jsonl"))
	must(t, err)
	for _, step := range []string{`"step":"app"`, `"step":"config"`, `"step":"db"`, `"action":"incident.closed"`, `"action":"notify.sent"`} {
		if !strings.Contains(string(journalFile), step) {
			t.Errorf("journal lacks %s", step)
		}
	}
	mirror := mirrorText(t, ns, id)
	mustContain(t, "cluster mirror", mirror, "step.completed", "incident.closed")

	show := rollback(t, nil, "incident", "show", id, "--journal-dir", journalDir)
	mustContain(t, "incident show", show.Stdout, "step.completed")

	if got := apiKey(t, ns); got != apiKeyV1 {
		t.Errorf("secret %s was not restored to its v1 value", secretName)
	}
	for _, secret := range []string{dbPassword, webhookSecret, "tok-Incident-44x", apiKeyV1, apiKeyV2} {
		for what, text := range map[string]string{"stdout": r.Stdout + dry.Stdout, "stderr": r.Stderr + dry.Stderr, "journal": string(journalFile),
			"report": string(report), "mirror": mirror, "notifications": strings.Join(rcv.Bodies(), "\n")} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s contains a secret value", what)
			}
		}
	}
}

// mirrorText returns the data of the incident's ConfigMap mirror.
func mirrorText(t *testing.T, ns, id string) string {
	t.Helper()
	cms, err := sb.Clientset.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "rollback.vibestack.dev/incident=" + id})
	must(t, err)
	if len(cms.Items) != 1 {
		t.Fatalf("%d mirror ConfigMaps for %s, want 1", len(cms.Items), id)
	}
	b, _ := json.Marshal(cms.Items[0].Data)
	return string(b)
}
