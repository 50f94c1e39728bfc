//go:build e2e

package preflight_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/runbook"
)

// password is the test role's password (scripts/ci/install-deps.sh, as in
// e2e/db). No output may contain it.
var password = pgtest.Password()

// newPostgres creates a fresh database on the test server and returns its
// URL; it fails (CI=true) or skips the test when the server is down.
func newPostgres(t *testing.T) string {
	t.Helper()
	return pgtest.NewDatabase(t, "preflight")
}

// withDatabase adds a database (URL from $PREFLIGHT_DATABASE_URL, one
// golang-migrate migration next to the runbook) and the db step.
func withDatabase(t *testing.T, rb *runbook.Runbook, dbURL string) {
	t.Helper()
	t.Setenv("PREFLIGHT_DATABASE_URL", dbURL)
	rb.Database = &runbook.Database{URLFromEnv: "PREFLIGHT_DATABASE_URL", MigrationsDir: "migrations", BackupDir: "backups"}
	rb.Steps = runbook.DefaultSteps
}

// writeWithMigrations writes the runbook and its migrations directory.
func writeWithMigrations(t *testing.T, rb *runbook.Runbook) string {
	t.Helper()
	path := write(t, rb)
	dir := filepath.Join(filepath.Dir(path), "migrations")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"1_create_users.up.sql":   "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
		"1_create_users.down.sql": "DROP TABLE users;\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestDatabaseReachable: the real PostgreSQL: reachable with its version,
// migration state, pg_dump compatible, free disk; GO.
func TestDatabaseReachable(t *testing.T) {
	dbURL := newPostgres(t)
	a := newApp(t)
	rb := a.runbook()
	withDatabase(t, rb, dbURL)
	path := writeWithMigrations(t, rb)
	code, out, errOut := run(t, "preflight", "-f", path)
	if code != 0 {
		t.Fatalf("exit code %d, want 0 (GO)", code)
	}
	if l := line(t, out, "✓ database       connection"); !strings.Contains(l, "reachable, PostgreSQL ") || !strings.Contains(l, "postgres://rollback_e2e:xxxxx@") {
		t.Errorf("connection line %q", l)
	}
	if l := line(t, out, "✓ database       migrations"); !strings.Contains(l, "migrate v4") || !strings.Contains(l, "at version 0, 0 applied, 1 pending") {
		t.Errorf("migrations line %q", l)
	}
	if l := line(t, out, "✓ database       backup tool"); !strings.Contains(l, "pg_dump (PostgreSQL) ") || !strings.Contains(l, "(server PostgreSQL ") {
		t.Errorf("backup tool line %q", l)
	}
	if l := line(t, out, "✓ database       backup disk"); !strings.Contains(l, " free in "+filepath.Join(filepath.Dir(path), "backups")+" for a database of ") {
		t.Errorf("backup disk line %q", l)
	}
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, password) {
			t.Error("database password in output")
		}
	}
	// Without the db step nothing is asked of the database.
	_, out, _ = run(t, "preflight", "-f", path, "--steps", "app,config")
	if strings.Contains(out, "database") {
		t.Errorf("database checked without the db step:\n%s", out)
	}
}

// TestNoGoDatabaseUnreachable: a PostgreSQL URL on a closed port: NO-GO,
// without the password.
func TestNoGoDatabaseUnreachable(t *testing.T) {
	a := newApp(t)
	rb := a.runbook()
	withDatabase(t, rb, pgtest.ServerURLAt(closedAddr(t))+"/shop")
	path := writeWithMigrations(t, rb)
	code, out, errOut := run(t, "preflight", "-f", path, "--check-timeout", "20s")
	if code != 2 {
		t.Fatalf("exit code %d, want 2 (NO-GO)", code)
	}
	l := line(t, out, "✗ database       connection")
	if !strings.Contains(l, "connect to postgres://rollback_e2e:xxxxx@127.0.0.1:") {
		t.Errorf("connection line %q", l)
	}
	if !strings.Contains(errOut, noGo+"1 problem;") {
		t.Errorf("stderr %q", errOut)
	}
	for _, s := range []string{out, errOut} {
		if strings.Contains(s, password) {
			t.Error("database password in output")
		}
	}
}

// TestNoGoDatabaseURLMissing: the URL's variable is not set: NO-GO saying what to export.
func TestNoGoDatabaseURLMissing(t *testing.T) {
	a := newApp(t)
	rb := a.runbook()
	withDatabase(t, rb, "")
	code, out, _ := run(t, "preflight", "-f", writeWithMigrations(t, rb))
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	line(t, out, "✗ database       url")
	if !strings.Contains(out, "export PREFLIGHT_DATABASE_URL=") {
		t.Errorf("no fix:\n%s", out)
	}
}
