//go:build e2e

package incident_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/rollout"
)

const (
	appName    = "vibestack-app"
	deployName = "vibestack-app"
	configName = "vibestack-config"
)

// configV1 and configV2 are the good and the bad release's configuration.
var (
	configV1 = map[string]string{"LOG_LEVEL": "info", "FEATURE_CHECKOUT_V2": "off"}
	configV2 = map[string]string{"LOG_LEVEL": "debug", "FEATURE_CHECKOUT_V2": "on", "CACHE_TTL": "0"}
)

// The Secret of the app: its values must never appear in any output,
// journal, mirror, notification or report.
const (
	secretName = "vibestack-secrets"
	apiKeyV1   = "sk-live-V1-9d8f7e6a5b"
	apiKeyV2   = "sk-live-V2-3c2b1a0f9e"
)

// goodApp creates the ConfigMap at v1 and the Deployment at image v1, waits
// for it, stamps it known-good and snapshots its configuration - what a
// healthy release pipeline leaves behind.
func goodApp(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configName}, Data: configV1}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName},
		Data: map[string][]byte{"API_KEY": []byte(apiKeyV1)}}, metav1.CreateOptions{})
	must(t, err)
	labels := map[string]string{"app": appName}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: deployName, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example/vibestack-app:v1",
					EnvFrom: []corev1.EnvFromSource{
						{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: configName}}},
						{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secretName}}},
					},
				}}},
			},
			ProgressDeadlineSeconds: ptr.To(int32(600)),
		},
	}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	must(t, err)
	waitFor(t, 90*time.Second, "vibestack-app v1 available", func() bool { return available(t, ns) })
	must(t, rollout.MarkGood(ctx, rollout.NewClients(cs, ns), deployName, time.Now()))
	r := rollback(t, nil, "config", "snapshot", deployName, "-n", ns)
	if r.Code != 0 {
		t.Fatalf("config snapshot: exit %d", r.Code)
	}
}

// service creates the Service of the app and returns the base URL of its
// sandbox HTTP endpoint.
func service(t *testing.T, ns string) string {
	t.Helper()
	ctx := ctxT(t)
	_, err := sb.Clientset.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: appName},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": appName},
			Ports: []corev1.ServicePort{{Port: 8080}}},
	}, metav1.CreateOptions{})
	must(t, err)
	var u string
	waitFor(t, 30*time.Second, "the service endpoint", func() bool {
		u, err = sb.Endpoint(ctx, ns, appName)
		return err == nil && u != ""
	})
	return u
}

// badRelease ships v2: a new configuration and an image that crash-loops.
func badRelease(t *testing.T, ns string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, configName, metav1.GetOptions{})
	must(t, err)
	cm.Data = configV2
	_, err = cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	must(t, err)
	sec, err := cs.CoreV1().Secrets(ns).Get(ctx, secretName, metav1.GetOptions{})
	must(t, err)
	sec.Data = map[string][]byte{"API_KEY": []byte(apiKeyV2)}
	_, err = cs.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
	must(t, err)
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, deployName, metav1.GetOptions{})
	must(t, err)
	d.Spec.Template.Spec.Containers[0].Image = "registry.example/vibestack-app:crash"
	_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	must(t, err)
	waitFor(t, 60*time.Second, "a crash-looping v2 pod", func() bool {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, p := range pods.Items {
			for _, st := range p.Status.ContainerStatuses {
				if st.State.Waiting != nil && st.State.Waiting.Reason == "CrashLoopBackOff" {
					return true
				}
			}
		}
		return false
	})
}

func available(t *testing.T, ns string) bool {
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(context.Background(), deployName, metav1.GetOptions{})
	must(t, err)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == 2 && d.Status.AvailableReplicas == 2 && d.Status.Replicas == 2
}

func deployment(t *testing.T, ns string) *appsv1.Deployment {
	d, err := sb.Clientset.AppsV1().Deployments(ns).Get(context.Background(), deployName, metav1.GetOptions{})
	must(t, err)
	return d
}

func configData(t *testing.T, ns string) map[string]string {
	cm, err := sb.Clientset.CoreV1().ConfigMaps(ns).Get(context.Background(), configName, metav1.GetOptions{})
	must(t, err)
	return cm.Data
}

// badReleaseIncident creates a good release followed by a crashing one in a
// new namespace and writes a runbook with the app and config steps. It
// returns the namespace, the runbook's directory, its path and the journal
// directory to use.
func badReleaseIncident(t *testing.T) (ns, dir, rb, journalDir string) {
	t.Helper()
	ns = sb.Namespace(t)
	goodApp(t, ns)
	badRelease(t, ns)
	dir = t.TempDir()
	rb = writeRunbook(t, dir, runbookOpts{ns: ns, steps: []string{"app", "config"}})
	return ns, dir, rb, filepath.Join(dir, "incidents")
}

// dbPassword is the test role's password (scripts/ci/install-deps.sh); no
// output, journal, mirror, notification or report may contain it.
var dbPassword = pgtest.Password()

var migrations = []struct{ up, down string }{
	{"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO users VALUES (1, 'ada'), (2, 'bob');\n", "DROP TABLE users;\n"},
	{"CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);\nINSERT INTO orders VALUES (1, 1);\n", "DROP TABLE orders;\n"},
	{"CREATE INDEX orders_user ON orders (user_id);\n", "DROP INDEX orders_user;\n"},
}

// database creates a PostgreSQL database with migrations 1..3 applied and
// returns its URL and the migrations directory.
func database(t *testing.T) (string, string) {
	t.Helper()
	u := pgtest.NewDatabase(t, "incident")
	dir := t.TempDir()
	for i, m := range migrations {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_m%d.up.sql", i+1, i+1)), []byte(m.up), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_m%d.down.sql", i+1, i+1)), []byte(m.down), 0o644))
	}
	migrateUp(t, u, dir)
	return u, dir
}

// migrateUp applies every migration of dir to the database at u.
func migrateUp(t *testing.T, u, dir string) {
	t.Helper()
	conn, err := dbrollback.OpenDB(ctxT(t), u)
	must(t, err)
	defer conn.Close()
	src, err := iofs.New(os.DirFS(dir), ".")
	must(t, err)
	drv, err := mpgx.WithInstance(conn, &mpgx.Config{})
	must(t, err)
	m, err := migrate.NewWithInstance("iofs", src, "postgres", drv)
	must(t, err)
	must(t, m.Up())
}

// dbVersion returns golang-migrate's version of the database at u.
func dbVersion(t *testing.T, u string) int64 {
	t.Helper()
	db, err := dbrollback.OpenDB(context.Background(), u)
	must(t, err)
	defer db.Close()
	var v int64
	must(t, db.QueryRow("SELECT version FROM schema_migrations").Scan(&v))
	return v
}

// runbookFile writes a rollback.yaml for namespace ns into dir.
type runbookOpts struct {
	ns, migrations, webhookEnv, promURL, httpURL string
	steps                                        []string
	// moreDeployments are rolled back beside vibestack-app.
	moreDeployments []string
}

func writeRunbook(t *testing.T, dir string, o runbookOpts) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: rollback.vibestack.dev/v1\nkind: Runbook\napp: %s\n", appName)
	fmt.Fprintf(&b, "clusters:\n  - context: sandbox\n    namespace: %s\n", o.ns)
	fmt.Fprintf(&b, "deployments: [%s]\nconfigs:\n  - kind: ConfigMap\n    name: %s\n  - kind: Secret\n    name: %s\n", strings.Join(append([]string{deployName}, o.moreDeployments...), ", "), configName, secretName)
	if o.migrations != "" {
		fmt.Fprintf(&b, "database:\n  urlFromEnv: VIBESTACK_DATABASE_URL\n  migrationsDir: %s\n  tool: migrate\n  backupDir: backups\n", o.migrations)
	}
	if o.httpURL != "" || o.promURL != "" {
		b.WriteString("healthChecks:\n")
	}
	if o.httpURL != "" {
		fmt.Fprintf(&b, "  http:\n    - url: %s\n      expectStatus: 200\n      timeout: 3s\n", o.httpURL)
	}
	if o.promURL != "" {
		fmt.Fprintf(&b, "  prometheus:\n    url: %s\n    queries:\n      - name: up\n        query: vector(1)\n        min: 1\n", o.promURL)
	}
	if o.webhookEnv != "" {
		fmt.Fprintf(&b, "notifications:\n  webhook:\n    urlFromEnv: %s\n    hmacSecretFromEnv: ROLLBACK_WEBHOOK_SECRET\n", o.webhookEnv)
	}
	b.WriteString("escalation:\n  primary:\n    name: Dana On-Call\n    contact: \"+1-555-0100\"\n  secondary:\n    name: Eli Backup\n    contact: \"@eli\"\n  engineeringLead:\n    name: Fay Lead\n    contact: fay@example.com\n")
	if len(o.steps) > 0 {
		fmt.Fprintf(&b, "steps: [%s]\n", strings.Join(o.steps, ", "))
	}
	p := filepath.Join(dir, "rollback.yaml")
	must(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

func apiKey(t *testing.T, ns string) string {
	s, err := sb.Clientset.CoreV1().Secrets(ns).Get(context.Background(), secretName, metav1.GetOptions{})
	must(t, err)
	return string(s.Data["API_KEY"])
}
