package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/e2e/sandboxenv"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// The demo's application, configuration and migrations (scripts/demo.sh).
const (
	app       = "vibestack-app"
	configMap = "vibestack-config"
	goodImage = "vibestack/app:1.4.0"
	badImage  = "vibestack/app:crash"
)

var (
	goodMigrations = map[string]string{
		"1_users.up.sql":    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nINSERT INTO users VALUES (1, 'ada'), (2, 'bob');\n",
		"1_users.down.sql":  "DROP TABLE users;\n",
		"2_orders.up.sql":   "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);\nINSERT INTO orders VALUES (1, 1, 10), (2, 2, 20);\n",
		"2_orders.down.sql": "DROP TABLE orders;\n",
	}
	badMigrations = map[string]string{
		"3_orders_user_index.up.sql":   "CREATE INDEX orders_user ON orders (user_id);\n",
		"3_orders_user_index.down.sql": "DROP INDEX orders_user;\n",
	}
	goodConfig = map[string]string{"LOG_LEVEL": "info", "CHECKOUT_V2": "off"}
	badConfig  = map[string]string{"LOG_LEVEL": "debug", "CHECKOUT_V2": "on", "CACHE_TTL": "0"}
)

// fixture is one run's copy of the demo incident: its namespace, and the
// application directory holding rollback.yaml, the migrations, the
// ConfigMap manifests of both releases and the backups.
type fixture struct {
	ns, dir, url string
	env          []string
	// badConfigAt is when configuration v2 was applied.
	badConfigAt time.Time
}

// prepareDatabase creates the database of size (small: the demo's own
// rows; large: filled to o.largeUsers users and twice as many orders) at
// migration 2, the good release.
func prepareDatabase(ctx context.Context, o options, size string) (*database, error) {
	db := &database{size: size, name: "rollback_bench_incident_small"}
	if size == "large" {
		db.name = "rollback_bench_incident"
	}
	db.url = serverURL() + "/" + db.name
	dir := filepath.Join(o.work, "migrations-"+size)
	if err := writeFiles(dir, goodMigrations, badMigrations); err != nil {
		return nil, err
	}
	if size == "small" {
		if err := o.quiet(ctx, nil, "", o.pipeline, "db-create", serverURL()+"/postgres", db.name); err != nil {
			return nil, err
		}
	} else if err := pgtest.EnsureDatabase(ctx, db.url, db.name); err != nil {
		return nil, err
	}
	// At the good release: migration 2 (an interrupted run may have left 3).
	if err := o.migrateTo(ctx, db.url, dir, 2); err != nil {
		return nil, err
	}
	conn, err := dbrollback.OpenDB(ctx, db.url)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if size == "large" {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
			return nil, err
		}
		if n != o.largeUsers {
			fmt.Fprintf(os.Stderr, "filling %s: %d users, %d orders...\n", db.name, o.largeUsers, 2*o.largeUsers)
			for _, q := range []string{
				"SET lock_timeout = 0",
				"TRUNCATE users, orders",
				"INSERT INTO users SELECT g, 'user ' || g || ' ' || md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) FROM generate_series(1, $1) g",
				"INSERT INTO orders SELECT g, 1 + (g::bigint * 7919) % $1, (g::bigint * 31) % 100000 FROM generate_series(1, 2 * $1) g",
				"VACUUM ANALYZE users",
				"VACUUM ANALYZE orders",
			} {
				var args []any
				if strings.Contains(q, "$1") {
					args = append(args, o.largeUsers)
				}
				if _, err := conn.ExecContext(ctx, q, args...); err != nil {
					return nil, fmt.Errorf("fill %s: %s: %w", db.name, q, err)
				}
			}
		}
	}
	if err := conn.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM orders)").Scan(&db.rows); err != nil {
		return nil, err
	}
	return db, nil
}

// migrateTo moves the database of url to version v with golang-migrate's CLI.
func (o options) migrateTo(ctx context.Context, url, dir string, v int) error {
	return o.quiet(ctx, nil, "", o.migrate, "-path", dir, "-database", url+"?sslmode=disable", "goto", strconv.Itoa(v))
}

// release plays the demo's pipeline in a fresh namespace: release 1.4.0
// (configuration v1, migrations 1-2) stamped known-good with its
// configuration snapshotted, then release 1.5.0 (configuration v2,
// migration 3, a crashing image), and waits until rollback sees the crash.
func (o options) release(ctx context.Context, sb *sandboxenv.Sandbox, hooks *receiver, db *database, arm string, i int) (*fixture, error) {
	f := &fixture{ns: fmt.Sprintf("inc-%s-%s-%d-%d", db.size, arm, i, time.Now().UnixNano()%100000)}
	f.dir = filepath.Join(o.work, f.ns)
	f.env = []string{"KUBECONFIG=" + sb.Kubeconfig}
	migrations := filepath.Join(f.dir, "db", "migrations")
	if err := writeFiles(migrations, goodMigrations); err != nil {
		return nil, err
	}
	for name, data := range map[string]map[string]string{"configmap-v1.yaml": goodConfig, "configmap-v2.yaml": badConfig} {
		if err := os.WriteFile(filepath.Join(f.dir, name), configManifest(f.ns, data), 0o644); err != nil {
			return nil, err
		}
	}
	if _, err := sb.Clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}, metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	// Release 1.4.0.
	steps := [][]string{
		{o.kubectl, "apply", "-f", filepath.Join(f.dir, "configmap-v1.yaml")},
		{o.pipeline, "deploy", f.ns, app, goodImage, "release 1.4.0", configMap},
		{o.rollback, "app", "status", app, "-n", f.ns, "--settle", "0s"},
		{o.rollback, "config", "snapshot", app, "-n", f.ns, "--reason", "release 1.4.0"},
	}
	for _, s := range steps {
		if err := o.quiet(ctx, f.env, f.dir, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	url, err := sb.Endpoint(ctx, f.ns, app)
	if err != nil {
		return nil, err
	}
	f.url = url
	rb, err := exec.CommandContext(ctx, o.pipeline, "runbook", f.ns, f.url+"/healthz").Output()
	if err != nil {
		return nil, fmt.Errorf("demo-pipeline runbook: %w", err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "rollback.yaml"), rb, 0o644); err != nil {
		return nil, err
	}
	// Release 1.5.0.
	if err := writeFiles(migrations, badMigrations); err != nil {
		return nil, err
	}
	if err := o.quiet(ctx, f.env, f.dir, o.pipeline, "db-up", db.url, migrations); err != nil {
		return nil, err
	}
	// One second apart, as creation timestamps have a resolution of seconds.
	time.Sleep(time.Second)
	f.badConfigAt = time.Now()
	steps = [][]string{
		{o.kubectl, "apply", "-f", filepath.Join(f.dir, "configmap-v2.yaml")},
		{o.pipeline, "deploy", f.ns, app, badImage, "release 1.5.0", configMap},
	}
	for _, s := range steps {
		if err := o.quiet(ctx, f.env, f.dir, s[0], s[1:]...); err != nil {
			return nil, err
		}
	}
	// The crash is known (rollback app status fails fast, exit 3).
	c := exec.CommandContext(ctx, o.rollback, "app", "status", app, "-n", f.ns, "--timeout", "60s")
	c.Env = append(os.Environ(), f.env...)
	if out, err := c.CombinedOutput(); c.ProcessState == nil || c.ProcessState.ExitCode() != 3 {
		return nil, fmt.Errorf("rollback app status of the bad release: %v (want exit 3)\n%s", err, out)
	}
	if db.bytes == 0 {
		conn, err := dbrollback.OpenDB(ctx, db.url)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		if err := conn.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&db.bytes); err != nil {
			return nil, err
		}
	}
	f.env = append(f.env, "VIBESTACK_DATABASE_URL="+db.url, "ROLLBACK_WEBHOOK_URL="+hooks.url, "ROLLBACK_WEBHOOK_SECRET=bench-hmac-secret",
		"ROLLBACK_JOURNAL_DIR="+filepath.Join(f.dir, "incidents"))
	return f, nil
}

// check verifies the recovery: image 1.4.0 on 3 Ready pods that all
// started after t0 (so with the restored configuration), no other pod, the
// ConfigMap at v1, the Service answering 200 from 1.4.0, the schema at
// version 2 without migration 3's index.
func (f *fixture) check(ctx context.Context, sb *sandboxenv.Sandbox, db *database, t0 time.Time) error {
	d, err := sb.Clientset.AppsV1().Deployments(f.ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if img := d.Spec.Template.Spec.Containers[0].Image; img != goodImage {
		return fmt.Errorf("deployment image %s, want %s", img, goodImage)
	}
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.Replicas != 3 {
		return fmt.Errorf("deployment not rolled out: %+v", st)
	}
	pods, err := sb.Clientset.CoreV1().Pods(f.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return err
	}
	live := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		live++
		if p.Spec.Containers[0].Image != goodImage || !podReady(&p) {
			return fmt.Errorf("pod %s: image %s, ready %t", p.Name, p.Spec.Containers[0].Image, podReady(&p))
		}
		// Environment variables from a ConfigMap are read when a container
		// starts: a pod runs configuration v1 if it started after the
		// recovery began, or before v2 was applied and never restarted.
		if created := p.CreationTimestamp.Time; created.Before(t0.Truncate(time.Second)) &&
			(!created.Before(f.badConfigAt.Truncate(time.Second)) || restarts(&p) > 0) {
			return fmt.Errorf("pod %s (created %s, %d restarts) may run configuration v2 (applied at %s; recovery began at %s)",
				p.Name, p.CreationTimestamp.UTC(), restarts(&p), f.badConfigAt.UTC(), t0.UTC())
		}
	}
	if live != 3 {
		return fmt.Errorf("%d live pods, want 3", live)
	}
	cm, err := sb.Clientset.CoreV1().ConfigMaps(f.ns).Get(ctx, configMap, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !maps.Equal(cm.Data, goodConfig) {
		return fmt.Errorf("configmap data %v, want %v", cm.Data, goodConfig)
	}
	resp, err := http.Get(f.url + "/")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("version=1.4.0")) {
		return fmt.Errorf("service answers %d %q", resp.StatusCode, body)
	}
	conn, err := dbrollback.OpenDB(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close()
	var v int
	var dirty bool
	var index int
	if err := conn.QueryRowContext(ctx, "SELECT version, dirty, (SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_user') FROM schema_migrations").Scan(&v, &dirty, &index); err != nil {
		return err
	}
	if v != 2 || dirty || index != 0 {
		return fmt.Errorf("schema at version %d (dirty %t, index orders_user present: %t), want 2", v, dirty, index != 0)
	}
	return nil
}

// cleanup deletes the namespace (in the background) and the directory.
func (f *fixture) cleanup(sb *sandboxenv.Sandbox) {
	_ = sb.Clientset.CoreV1().Namespaces().Delete(context.Background(), f.ns, metav1.DeleteOptions{})
	os.RemoveAll(f.dir)
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// configManifest is the ConfigMap manifest of one release, as kept in Git.
func configManifest(ns string, data map[string]string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n", configMap, ns)
	for _, k := range slices.Sorted(maps.Keys(data)) {
		fmt.Fprintf(&b, "  %s: %q\n", k, data[k])
	}
	return []byte(b.String())
}

func writeFiles(dir string, sets ...map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, files := range sets {
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// quiet runs a setup command; its output is shown only when it fails.
func (o options) quiet(ctx context.Context, env []string, dir, bin string, args ...string) error {
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = append(os.Environ(), env...)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}
