//go:build e2e

// Package canary_test plants one unique canary string in every secret input
// of rollback (the database password, a Secret's values, the webhook URL and
// its HMAC secret, the Slack URL, the PagerDuty routing key, a check URL's
// user info and token parameter, the Prometheus URL's credentials), drives
// the rollback binary as a user would through a whole incident, a guarded
// release, the guard controller, a drill and their failure paths, and then
// searches every artifact for the canary: stdout and stderr of every
// command, journals, reports, backup metadata, ConfigMaps, Events,
// annotations of Deployments and ReplicaSets, the controller's log and every
// notification body the receivers got. It must appear nowhere.
package canary_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/e2e/promenv"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/e2e/webhooktest"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

var sb *sandboxenv.Sandbox

func TestMain(m *testing.M) {
	os.Exit(clitest.Main(func() int { return sandboxenv.RunTests(m, &sb) }))
}

const app = "web"

// artifacts collects every text rollback produced, by where it came from.
type artifacts struct {
	canary string
	mu     sync.Mutex
	texts  map[string]string
}

func (a *artifacts) add(where, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.texts[where] += text
}

// leaks reports every artifact holding the canary.
func (a *artifacts) check(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	total := 0
	for where, text := range a.texts {
		total += len(text)
		if i := strings.Index(text, a.canary); i >= 0 {
			from, to := max(0, i-80), min(len(text), i+len(a.canary)+40)
			t.Errorf("the canary leaked into %s: ...%q...", where, text[from:to])
		}
	}
	t.Logf("searched %d artifacts, %d bytes, for the canary", len(a.texts), total)
}

// receiver is a real HTTP server on loopback standing in for Slack, the
// generic webhook and PagerDuty; it keeps every body. Slack answers 500
// (a failure path), the others accept.
// bodies returns what the receiver got; PagerDuty's own routing key, which
// the Events API needs in the body, is taken out. Only bodies: the URL is
// the destination (the Slack URL's path is the canary by design).
func bodies(r *webhooktest.Receiver, key string) (string, int) {
	all := r.Bodies()
	return strings.ReplaceAll(strings.Join(all, "\n"), `"routing_key":"`+key+`"`, `"routing_key":"(the key)"`), len(all)
}

func newCanary() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "cnry" + hex.EncodeToString(b)
}

func ctxT(t *testing.T) context.Context { return clitest.Context(t, 5*time.Minute) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCanaryNeverLeaks is the whole scenario; see the package documentation.
func TestCanaryNeverLeaks(t *testing.T) {
	canary := newCanary()
	art := &artifacts{canary: canary, texts: map[string]string{}}
	ctx := ctxT(t)
	ns := sb.Namespace(t)
	rcv := webhooktest.New(t, webhooktest.Options{})
	dbURL, migrations := canaryDatabase(t, canary)
	endpoint := goodRelease(t, ns, canary)
	prom := promenv.Start(ctx, t, func() []promenv.Target { return nil })
	checkURL := strings.Replace(endpoint, "http://", "http://probe:"+canary+"@", 1) + "/healthz?token=" + canary
	promURL := strings.Replace(prom.URL, "http://", "http://prom:"+canary+"@", 1) + "/?access_token=" + canary
	dir := t.TempDir()
	journals := filepath.Join(dir, "incidents")
	backups := filepath.Join(dir, "backups")
	rb := writeRunbook(t, dir, ns, migrations, backups, checkURL, promURL, rcv.URL)
	env := map[string]string{
		"APP_DATABASE_URL":     dbURL,
		"SLACK_URL":            rcv.URL + "/services/T0/B0/" + canary,
		"HOOK_URL":             rcv.URL + "/hook?token=" + canary,
		"HOOK_SECRET":          canary,
		"PD_KEY":               canary,
		"ROLLBACK_JOURNAL_DIR": journals,
	}
	cli := func(name string, extraEnv map[string]string, args ...string) clitest.Result {
		t.Helper()
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extraEnv {
			e[k] = v
		}
		p := clitest.Start(t, clitest.Binary(t), e, append(args, "--kubeconfig", sb.Kubeconfig)...)
		r := p.Wait(t, 4*time.Minute)
		art.add(name+" stdout", r.Stdout)
		art.add(name+" stderr", r.Stderr)
		t.Logf("%s: exit %d", name, r.Code)
		return r
	}

	// 1. A whole incident: app, config (the Secret among it) and db.
	badRelease(t, ns, canary, "registry.example/web:crash")
	cli("preflight", nil, "preflight", "-f", rb, "-o", "json")
	if r := cli("run", nil, "run", "-f", rb, "--yes", "--accept-data-loss", "--settle", "1s", "--health-timeout", "20s", "--reason", "canary drill"); r.Code != 0 && r.Code != 3 {
		t.Errorf("rollback run: exit %d, want a finished incident (0, or 3 if its health checks fail)", r.Code)
	}
	cli("incident list", nil, "incident", "list")
	cli("incident list --cluster", nil, "incident", "list", "--cluster", "-n", ns)

	// 2. Failure paths: a database URL that does not parse, one that does
	// not answer, a restore of an unknown backup.
	bad := map[string]string{"APP_DATABASE_URL": "postgres://app:pa ss" + canary + "@127.0.0.1:5432/x"}
	cli("preflight, unparsable URL", bad, "preflight", "-f", rb, "-o", "json")
	cli("run, unparsable URL", bad, "run", "-f", rb, "--yes", "--steps", "db")
	cli("db status, unreachable", nil, "db", "status", "--database", "postgres://app:"+canary+"@127.0.0.1:1/x", "--migrations", migrations)
	cli("db status, unparsable", nil, "db", "status", "--database", "postgres://app:"+canary+"\n@127.0.0.1/x", "--migrations", migrations)
	cli("db restore, unknown backup", nil, "db", "restore", "nope", "--database", dbURL, "--backup-dir", backups, "--yes")
	cli("db backups", nil, "db", "backups", "--backup-dir", backups)

	// 3. A guarded release that fails its health check: guard rolls it back.
	badRelease(t, ns, canary, "registry.example/web:http500-v3")
	cli("guard", nil, "guard", app, "-n", ns, "-f", rb, "--check-url", checkURL, "--prom-url", promURL,
		"--prom-query", `count(up{namespace="{{.namespace}}"}) or vector(1)`, "--min", "1",
		"--bake", "3s", "--interval", "1s", "--settle", "1s", "--timeout", "2m", "--journal-dir", journals)
	cli("guard, bad query", nil, "guard", app, "-n", ns, "--prom-url", promURL, "--prom-query", "{{range 9}}x{{end}}", "--min", "1", "--check-url", checkURL)

	// 4. The controller guards the next release; its settings (with the
	// check URL's credentials) come from a ConfigMap.
	controllerRelease(t, ns, checkURL, promURL)
	ctl := clitest.Start(t, clitest.Binary(t), env, "guard", "--controller", "--kubeconfig", sb.Kubeconfig, "-n", ns,
		"--identity", "canary-ctl", "--health-addr", "127.0.0.1:0", "--journal-dir", filepath.Join(dir, "ctl"),
		"--lease-namespace", ns, "--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms",
		"--allow-url", "http://127.0.0.1:*")
	clitest.WaitFor(t, 60*time.Second, "the controller leads", func() bool { return strings.Contains(ctl.Stderr(), "became the leader") })
	badRelease(t, ns, canary, "registry.example/web:http500-v4")
	clitest.WaitFor(t, 3*time.Minute, "the controller's verdict", func() bool {
		s := sb.Deployment(t, ns, app).Annotations["rollback.vibestack.dev/guard-state"]
		return strings.Contains(s, `"phase":"rolled-back"`) || strings.Contains(s, `"phase":"failed"`)
	})
	ctl.Stop(15 * time.Second)
	art.add("controller log", ctl.Stdout()+ctl.Stderr())

	// 5. A drill in its own namespace (no notifications, no database).
	cli("drill", nil, "drill", "-f", rb, "-n", ns+"-drill", "--settle", "1s", "--journal-dir", journals)

	// Every artifact.
	body, n := bodies(rcv, canary)
	if n == 0 {
		t.Error("the receivers got no notification")
	}
	art.add("notification bodies", body)
	files(t, art, dir)
	cluster(t, art, ns)
	art.check(t)
}

// files adds every file under dir except the inputs (the runbook and the
// migrations): journals, reports, backup metadata, controller journals.
func files(t *testing.T, art *artifacts, dir string) {
	t.Helper()
	count := 0
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(p) == "rollback.yaml" || strings.Contains(p, string(filepath.Separator)+"migrations"+string(filepath.Separator)) {
			return err
		}
		if strings.HasSuffix(p, ".dump") {
			return nil // the backup is the database itself (its data holds no credential, but pg_dump's archive is binary)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		count++
		art.add("file "+strings.TrimPrefix(p, dir), string(b))
		return nil
	}))
	if count < 3 {
		t.Errorf("only %d files written under %s (journals, reports, backup metadata expected)", count, dir)
	}
}

// cluster adds what rollback wrote into the cluster: ConfigMaps (the journal
// mirrors and snapshots; not the inputs), Events, and the annotations of
// every Deployment and ReplicaSet, in ns and in its drill namespace.
func cluster(t *testing.T, art *artifacts, ns string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	for _, n := range []string{ns, ns + "-drill"} {
		cms, err := cs.CoreV1().ConfigMaps(n).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, cm := range cms.Items {
			if cm.Name == "guard-config" {
				continue // the controller's input
			}
			b, _ := json.Marshal(cm)
			art.add("configmap "+n+"/"+cm.Name, string(b))
		}
		evs, err := cs.CoreV1().Events(n).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, e := range evs.Items {
			art.add("event "+n+"/"+e.Name, e.Reason+" "+e.Message)
		}
		ds, err := cs.AppsV1().Deployments(n).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, d := range ds.Items {
			b, _ := json.Marshal(d.Annotations)
			art.add("annotations of deployment "+n+"/"+d.Name, string(b))
		}
		rss, err := cs.AppsV1().ReplicaSets(n).List(ctx, metav1.ListOptions{})
		must(t, err)
		for _, rs := range rss.Items {
			b, _ := json.Marshal(rs.Annotations)
			art.add("annotations of replicaset "+n+"/"+rs.Name, string(b))
		}
	}
}

// canaryDatabase creates a PostgreSQL role whose password is the canary, a
// database it owns with three migrations applied, and returns its URL and
// the migrations directory.
func canaryDatabase(t *testing.T, canary string) (string, string) {
	t.Helper()
	ctx := ctxT(t)
	admin, err := dbrollback.OpenDB(ctx, pgtest.URL("postgres"))
	if err != nil {
		pgtest.Unreachable(t, "postgres", err)
	}
	defer admin.Close()
	role, db := "canary_"+canary[4:12], "canary_"+canary[4:16]
	for _, q := range []string{
		fmt.Sprintf(`CREATE ROLE %q LOGIN PASSWORD '%s'`, role, canary),
		fmt.Sprintf(`CREATE DATABASE %q OWNER %q`, db, role),
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", strings.ReplaceAll(q, canary, "(canary)"), err)
		}
	}
	t.Cleanup(func() {
		c, err := dbrollback.OpenDB(context.Background(), pgtest.URL("postgres"))
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, db))
		_, _ = c.Exec(fmt.Sprintf(`DROP ROLE IF EXISTS %q`, role))
	})
	u := fmt.Sprintf("postgres://%s:%s@%s/%s", role, canary, pgtest.Addr(), db)
	dir := filepath.Join(t.TempDir(), "migrations")
	must(t, os.MkdirAll(dir, 0o755))
	ms := []struct{ up, down string }{
		{"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO users VALUES (1, 'ada');\n", "DROP TABLE users;\n"},
		{"CREATE TABLE orders (id INTEGER PRIMARY KEY);\n", "DROP TABLE orders;\n"},
		{"ALTER TABLE orders ADD COLUMN note TEXT;\n", "ALTER TABLE orders DROP COLUMN note;\n"},
	}
	for i, m := range ms {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_m%d.up.sql", i+1, i+1)), []byte(m.up), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_m%d.down.sql", i+1, i+1)), []byte(m.down), 0o644))
	}
	conn, err := dbrollback.OpenDB(ctx, u)
	must(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
	must(t, err)
	for _, m := range ms {
		_, err = conn.ExecContext(ctx, m.up)
		must(t, err)
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (3, false)")
	must(t, err)
	return u, dir
}

// goodRelease creates the app at v1 (a ConfigMap, a Secret whose value is
// the canary, a Deployment using both, a Service), stamps it known-good and
// snapshots its configuration; it returns the Service's endpoint.
func goodRelease(t *testing.T, ns, canary string) string {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config"}, Data: map[string]string{"LOG_LEVEL": "info"}}, metav1.CreateOptions{})
	must(t, err)
	_, err = cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-secret"},
		Data: map[string][]byte{"API_KEY": []byte(canary), "DSN": []byte("postgres://svc:" + canary + "@db/app")}}, metav1.CreateOptions{})
	must(t, err)
	labels := map[string]string{"app": app}
	_, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: app, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/web:v1",
					EnvFrom: []corev1.EnvFromSource{
						{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}},
						{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-secret"}}},
					}}}},
			},
		},
	}, metav1.CreateOptions{})
	must(t, err)
	endpoint := sb.Service(t, ns, app)
	sb.WaitRolledOut(t, ns, app)
	if r := clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig}, "app", "mark-good", app, "-n", ns); r.Code != 0 {
		t.Fatalf("mark-good: exit %d", r.Code)
	}
	if r := clitest.Run(t, clitest.Options{Kubeconfig: sb.Kubeconfig}, "config", "snapshot", app, "-n", ns); r.Code != 0 {
		t.Fatalf("config snapshot: exit %d", r.Code)
	}
	return endpoint
}

// badRelease ships a new configuration, a new Secret value (still holding
// the canary) and image.
func badRelease(t *testing.T, ns, canary, image string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
	must(t, err)
	cm.Data = map[string]string{"LOG_LEVEL": "debug", "RELEASE": image}
	_, err = cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	must(t, err)
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, "web-secret", metav1.GetOptions{})
	must(t, err)
	s.Data["API_KEY"] = []byte(canary + "-" + filepath.Base(image))
	_, err = cs.CoreV1().Secrets(ns).Update(ctx, s, metav1.UpdateOptions{})
	must(t, err)
	d := sb.Deployment(t, ns, app)
	d.Spec.Template.Spec.Containers[0].Image = image
	_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	must(t, err)
}

// controllerRelease opts the app in to the controller, with its settings in
// the ConfigMap guard-config: the check URL with the canary in its user info
// and token, the Prometheus URL with the canary, a short bake.
func controllerRelease(t *testing.T, ns, checkURL, promURL string) {
	t.Helper()
	ctx := ctxT(t)
	cs := sb.Clientset
	sb.WaitRolledOut(t, ns, app)
	_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "guard-config"}, Data: map[string]string{
		"bake": "4s", "interval": "1s", "settle": "1s", "timeout": "2m", "check-urls": checkURL, "prometheus-url": promURL,
		"queries": "- name: one\n  query: vector(1)\n  min: 1\n",
	}}, metav1.CreateOptions{})
	must(t, err)
	d := sb.Deployment(t, ns, app)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations["rollback.vibestack.dev/guard"] = "enabled"
	d.Annotations["rollback.vibestack.dev/guard-config"] = "guard-config"
	_, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	must(t, err)
}

// writeRunbook writes the runbook: the app, its ConfigMap and Secret, the
// database from $APP_DATABASE_URL, the health checks with credentials, and
// the three notification channels from the environment.
func writeRunbook(t *testing.T, dir, ns, migrations, backups, checkURL, promURL, receiver string) string {
	t.Helper()
	rb := fmt.Sprintf(`apiVersion: rollback.vibestack.dev/v1
kind: Runbook
app: %[1]s
clusters:
  - context: sandbox
    namespace: %[2]s
deployments: [%[1]s]
configs:
  - kind: ConfigMap
    name: web-config
  - kind: Secret
    name: web-secret
database:
  urlFromEnv: APP_DATABASE_URL
  migrationsDir: %[3]s
  tool: migrate
  backupDir: %[4]s
healthChecks:
  http:
    - url: %[5]q
      expectStatus: 200
      timeout: 3s
  prometheus:
    url: %[6]q
    queries:
      - name: up
        query: vector(1)
        min: 1
notifications:
  slack:
    webhookURLFromEnv: SLACK_URL
  webhook:
    urlFromEnv: HOOK_URL
    hmacSecretFromEnv: HOOK_SECRET
  pagerduty:
    routingKeyFromEnv: PD_KEY
    eventsURL: %[7]s/v2/enqueue
steps: [app, config, db]
`, app, ns, migrations, backups, checkURL, promURL, receiver)
	p := filepath.Join(dir, "rollback.yaml")
	must(t, os.WriteFile(p, []byte(rb), 0o644))
	return p
}
