//go:build e2e

package docs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// scenarios prepare the environment of the examples that name them. Each
// gets a fresh session: an empty working directory, rollback and
// kubectl-rollback on PATH, and nothing else until the setup adds it.
var scenarios = map[string]func(t *testing.T, s *session){
	// A checkout of the repository: bin/rollback and bin/rollback-sandbox,
	// the sandbox not started yet (the example starts it).
	"checkout": func(t *testing.T, s *session) { s.checkout(t) },
	// kubectl pointed at the sandbox, namespace shop (empty).
	"shop": func(t *testing.T, s *session) { s.namespace(t, "shop") },
	// kubectl pointed at the sandbox, namespaces team-a (current) and team-b.
	"teams": func(t *testing.T, s *session) { s.namespace(t, "team-a", "team-b") },
	// Namespace shop and the manifests of vibestack-app with its versioned
	// ConfigMaps, an unversioned ConfigMap and a Secret.
	"config": func(t *testing.T, s *session) {
		s.namespace(t, "shop")
		s.file(t, "config.yaml", configObjects)
		s.file(t, "vibestack-app.yaml", configDeployment)
	},
	// A PostgreSQL database "shop" at migration 4 of ./migrations
	// (golang-migrate), DATABASE_URL and MIGRATIONS_DIR exported.
	"db": func(t *testing.T, s *session) {
		s.Vars["DATABASE_URL"] = database(t, "shop")
		s.Vars["MIGRATIONS_DIR"] = "./migrations"
		for name, sql := range shopMigrations {
			s.file(t, filepath.Join("migrations", name), sql)
		}
		s.sh(t, `demo-pipeline db-up "$DATABASE_URL" migrations >/dev/null`)
	},
	// Namespace shop: Deployment web (example/web:v1, 2 replicas) with a
	// Service, verified known-good; URL is the Service's sandbox endpoint.
	"guard": func(t *testing.T, s *session) {
		s.namespace(t, "shop")
		s.sh(t, `
kubectl create deployment web --image=example/web:v1 --replicas=2 >/dev/null
kubectl expose deployment web --port 80 >/dev/null
rollback app status web --settle 1s >/dev/null 2>&1
`)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		url, err := sb.Endpoint(ctx, "shop", "web")
		if err != nil {
			t.Fatal(err)
		}
		s.Vars["URL"] = url
	},
	// An empty working directory.
	"empty": func(t *testing.T, s *session) {},
	// A webhook body and its timestamp; the secret exported.
	"signature": func(t *testing.T, s *session) {
		s.file(t, "body.json", `{"incident":"inc-20261126-040058-3e4b","app":"vibestack-app","kind":"started"}`+"\n")
		s.Vars["TIMESTAMP"] = "1764129658"
		s.Vars["ROLLBACK_WEBHOOK_SECRET"] = "docs-hmac-secret"
	},
	// The incident of make demo: vibestack-app 1.4.0 in namespace vibestack
	// verified, its configuration snapshotted, the database at migration
	// 2; then release 1.5.0 (configuration v2, migration 3, a crashing
	// image). rollback.yaml describes it; a webhook receiver logs to
	// webhook.log.
	"incident": func(t *testing.T, s *session) { s.incident(t, true) },
	// The same application without the database and the bad release: for
	// drills.
	"drill": func(t *testing.T, s *session) { s.incident(t, false) },
}

func (s *session) incident(t *testing.T, bad bool) {
	t.Helper()
	s.namespace(t, "vibestack")
	s.Show(s.Work, "/home/oncall/vibestack-app")
	s.Vars["ROLLBACK_JOURNAL_DIR"] = filepath.Join(s.Work, "incidents")
	s.Vars["ROLLBACK_WEBHOOK_SECRET"] = "docs-hmac-secret"
	s.Vars["VIBESTACK_DATABASE_URL"] = database(t, "vibestack")
	s.file(t, "db/migrations/1_users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
	s.file(t, "db/migrations/1_users.down.sql", "DROP TABLE users;\n")
	s.file(t, "db/migrations/2_orders.up.sql", "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);\n")
	s.file(t, "db/migrations/2_orders.down.sql", "DROP TABLE orders;\n")
	s.receiver(t)
	s.sh(t, `
demo-pipeline db-up "$VIBESTACK_DATABASE_URL" db/migrations >/dev/null
demo-pipeline config vibestack vibestack-config LOG_LEVEL=info CHECKOUT_V2=off >/dev/null
demo-pipeline config vibestack vibestack-feature-flags new-checkout=true dark-mode=false >/dev/null
demo-pipeline deploy vibestack vibestack-app vibestack/app:1.4.0 "release 1.4.0" vibestack-config >/dev/null
rollback app status vibestack-app --settle 1s >/dev/null 2>&1
rollback config snapshot vibestack-app --reason "release 1.4.0" >/dev/null 2>&1
`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	endpoint, err := sb.Endpoint(ctx, "vibestack", "vibestack-app")
	if err != nil {
		t.Fatal(err)
	}
	health := endpoint + "/healthz"
	steps := "[app, config, db]"
	if !bad {
		steps = "[app, config]"
	}
	s.file(t, "rollback.yaml", fmt.Sprintf(incidentRunbook, health, steps))
	if bad {
		s.sh(t, `
echo "CREATE INDEX orders_user ON orders (user_id);" > db/migrations/3_orders_user_index.up.sql
echo "DROP INDEX orders_user;" > db/migrations/3_orders_user_index.down.sql
demo-pipeline db-up "$VIBESTACK_DATABASE_URL" db/migrations >/dev/null
demo-pipeline config vibestack vibestack-config LOG_LEVEL=debug CHECKOUT_V2=on CACHE_TTL=0 >/dev/null
demo-pipeline deploy vibestack vibestack-app vibestack/app:crash "release 1.5.0" vibestack-config >/dev/null
rollback app status vibestack-app --timeout 60s >/dev/null 2>&1 || true
`)
	}
}

const incidentRunbook = `apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: vibestack-app
clusters:
  - context: sandbox
    namespace: vibestack
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
    - url: %s
      expectStatus: 200
notifications:
  webhook:
    urlFromEnv: ROLLBACK_WEBHOOK_URL
    hmacSecretFromEnv: ROLLBACK_WEBHOOK_SECRET
escalation:
  primary: {name: Dana (SRE on call), contact: "+1-555-0100"}
  secondary: {name: Eli (SRE backup), contact: "@eli"}
  engineeringLead: {name: Fay (engineering lead), contact: fay@example.com}
featureFlags:
  configMap: vibestack-feature-flags
steps: %s
`

// receiver starts the webhook receiver of make demo: it logs every event
// it gets to webhook.log; ROLLBACK_WEBHOOK_URL is its URL.
func (s *session) receiver(t *testing.T) {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	cmd := exec.Command(filepath.Join(s.bin, "demo-pipeline"), "receive", urlFile, filepath.Join(s.Work, "webhook.log"))
	cmd.Env = s.environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		if data, err := os.ReadFile(urlFile); err == nil && len(data) > 0 {
			s.Vars["ROLLBACK_WEBHOOK_URL"] = strings.TrimSpace(string(data))
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the webhook receiver wrote no URL")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// database creates the empty PostgreSQL database name (dropping one left
// by an earlier run) on the server of make deps, drops it when the test
// ends, and returns its URL. The examples show the name, so it is fixed;
// only the scenarios of this package use these names.
func database(t *testing.T, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := pgtest.URL("postgres")
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		pgtest.Unreachable(t, "PostgreSQL", err)
	}
	defer db.Close()
	for _, stmt := range []string{`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`, `CREATE DATABASE "` + name + `"`} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		if db, err := dbrollback.OpenDB(context.Background(), admin); err == nil {
			_, _ = db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
			db.Close()
		}
	})
	return pgtest.URL(name)
}

// shopMigrations are four golang-migrate migrations; the down of the third
// drops a column and its values.
var shopMigrations = map[string]string{
	"1_create_users.up.sql":      "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\nINSERT INTO users VALUES (1, 'ada'), (2, 'bob');\n",
	"1_create_users.down.sql":    "DROP TABLE users;\n",
	"2_create_orders.up.sql":     "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);\n",
	"2_create_orders.down.sql":   "DROP TABLE orders;\n",
	"3_add_users_email.up.sql":   "ALTER TABLE users ADD COLUMN email VARCHAR(200);\n",
	"3_add_users_email.down.sql": "-- the values of email are lost\nALTER TABLE users DROP COLUMN email;\n",
	"4_create_audit.up.sql":      "CREATE TABLE audit (id INTEGER PRIMARY KEY, note VARCHAR(100));\n",
	"4_create_audit.down.sql":    "DROP TABLE audit;\n",
}

// pipeline is scripts/demo-pipeline (the release pipeline of make demo),
// built once per test process.
var pipeline struct {
	once sync.Once
	path string
	err  error
}

// buildPipeline builds scripts/demo-pipeline into dir/demo-pipeline (once)
// and links it into the session's PATH.
func (s *session) buildPipeline(t *testing.T) {
	t.Helper()
	pipeline.once.Do(func() {
		dir, err := os.MkdirTemp("", "rollback-docs-")
		if err != nil {
			pipeline.err = err
			return
		}
		pipeline.path = filepath.Join(dir, "demo-pipeline")
		cmd := exec.Command("go", "build", "-o", pipeline.path, "./scripts/demo-pipeline")
		cmd.Dir = clitest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			pipeline.err = fmt.Errorf("build scripts/demo-pipeline: %w\n%s", err, out)
		}
	})
	if pipeline.err != nil {
		t.Fatal(pipeline.err)
	}
	if err := os.Symlink(pipeline.path, filepath.Join(s.bin, "demo-pipeline")); err != nil {
		t.Fatal(err)
	}
}

// checkout makes the working directory look like a built checkout: bin/
// with both binaries; the sandbox it may start is stopped at the end.
func (s *session) checkout(t *testing.T) {
	t.Helper()
	bin := filepath.Join(s.Work, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	sandbox := os.Getenv("ROLLBACK_SANDBOX_BIN")
	if sandbox == "" {
		sandbox = filepath.Join(clitest.RepoRoot(), "bin", "rollback-sandbox")
	}
	for name, target := range map[string]string{"rollback": filepath.Join(s.bin, "rollback"), "rollback-sandbox": sandbox} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	s.Show(s.Work, "/home/oncall/rollback")
	t.Cleanup(func() {
		_ = exec.Command(sandbox, "down", "--dir", filepath.Join(s.Work, ".sandbox")).Run()
	})
}

// namespace creates the namespaces in the package's sandbox (waiting for
// an earlier scenario's namespace of the same name to go away) and writes
// the kubeconfig ~/.kube/config (and restricted.kubeconfig in the working
// directory, the sandbox's view-only user) with the first one as the
// current context's namespace.
func (s *session) namespace(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		s.createNamespace(t, name)
	}
	s.kubeconfig(t, sb.Kubeconfig, filepath.Join(s.Vars["HOME"], ".kube", "config"), names[0])
	s.kubeconfig(t, sb.RestrictedKubeconfig, filepath.Join(s.Work, "restricted.kubeconfig"), names[0])
}

func (s *session) createNamespace(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := sb.Clientset
	for {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create namespace %s: %v", name, err)
		}
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		select {
		case <-ctx.Done():
			t.Fatalf("namespace %s of an earlier example is still there: %v", name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// kubeconfig copies the kubeconfig from to to, with namespace as the
// current context's namespace.
func (s *session) kubeconfig(t *testing.T, from, to, namespace string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(from)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = namespace
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, to); err != nil {
		t.Fatal(err)
	}
}

// file writes a file of the working directory.
func (s *session) file(t *testing.T, name, content string) {
	t.Helper()
	path := filepath.Join(s.Work, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sh runs a setup script in the session's shell environment, in the
// working directory; its output is not part of any example.
func (s *session) sh(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-euo", "pipefail", "-c", `export KUBECONFIG="${KUBECONFIG:-$HOME/.kube/config}"`+"\n"+script)
	cmd.Dir = s.Work
	cmd.Env = s.environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup script failed: %v\n%s\n%s", err, script, out)
	}
}

const configObjects = `apiVersion: v1
kind: ConfigMap
metadata: {name: vibestack-config-v1}
data: {SANDBOX_MODE: ok, LOG_LEVEL: info, FEATURE_CHECKOUT_V2: "off"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: vibestack-config-v2}
data: {SANDBOX_MODE: crash, LOG_LEVEL: debug, FEATURE_CHECKOUT_V2: "on"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-settings}
data:
  settings.json: |
    {"retries": 3, "timeout": "2s"}
---
apiVersion: v1
kind: Secret
metadata: {name: api-credentials}
stringData: {API_TOKEN: tok-0123456789ab, DB_PASSWORD: s3cret-passwd}
`

const configDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: vibestack-app}
spec:
  replicas: 3
  selector: {matchLabels: {app: vibestack-app}}
  template:
    metadata: {labels: {app: vibestack-app}}
    spec:
      containers:
        - name: app
          image: vibestack/app:1.4.0
          envFrom:
            - configMapRef: {name: vibestack-config-v1}
          env:
            - name: SANDBOX_MODE
              valueFrom: {configMapKeyRef: {name: vibestack-config-v1, key: SANDBOX_MODE}}
            - name: API_TOKEN
              valueFrom: {secretKeyRef: {name: api-credentials, key: API_TOKEN}}
          volumeMounts:
            - {name: config, mountPath: /etc/vibestack}
            - {name: settings, mountPath: /etc/settings}
      volumes:
        - name: config
          configMap: {name: vibestack-config-v1}
        - name: settings
          projected:
            sources:
              - configMap: {name: app-settings}
              - secret: {name: api-credentials}
`
