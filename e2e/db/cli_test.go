//go:build e2e

package db_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/redact"
)

// result is one CLI run.
type result = clitest.Result

// run runs the CLI in process and checks that the password appears in
// neither stream.
func run(t *testing.T, args ...string) result {
	t.Helper()
	r := clitest.Run(t, clitest.Options{Redact: redactLine}, args...)
	assertNoPassword(t, r.Stdout, r.Stderr)
	return r
}

func redactArgs(args []string) string { return redactLine(strings.Join(args, " ")) }

func redactLine(s string) string {
	return redact.String(strings.ReplaceAll(s, password, "xxxxx"))
}

func assertNoPassword(t *testing.T, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, password) {
			t.Errorf("output contains the database password:\n%s", o)
		}
	}
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(bytes.NewBufferString(r.Stdout)).Decode(&v); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, r.Stdout)
	}
	return v
}

// TestEnvironmentDefaults: DATABASE_URL, MIGRATIONS_DIR and
// ROLLBACK_BACKUP_DIR stand in for the flags, and --help never shows the
// URL (it carries the password).
func TestEnvironmentDefaults(t *testing.T) {
	u := newDB(t, dbrollback.Postgres)
	dir := writeMigrations(t, dbrollback.ToolGoose, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolGoose)
	t.Setenv("DATABASE_URL", u)
	t.Setenv("MIGRATIONS_DIR", dir)
	backups := t.TempDir()
	t.Setenv("ROLLBACK_BACKUP_DIR", backups)
	for _, sub := range []string{"status", "plan", "undo", "restore", "backups"} {
		if r := run(t, "db", sub, "--help"); r.Code != 0 {
			t.Errorf("db %s --help: exit %d", sub, r.Code)
		}
	}
	r := run(t, "db", "status")
	if r.Code != 0 || !strings.Contains(r.Stdout, "tool:     goose v3.30.0") || !strings.Contains(r.Stdout, "version:  4") {
		t.Errorf("status from the environment: exit %d", r.Code)
	}
	r = run(t, "db", "undo", "--to", "3", "--yes", "--accept-data-loss")
	if r.Code != 0 {
		t.Fatalf("undo from the environment: exit %d", r.Code)
	}
	r = run(t, "db", "undo", "--to", "3", "--yes")
	if r.Code != 0 || !strings.Contains(r.Stdout, "skipped") {
		t.Errorf("undo to the current version: exit %d, want 0 and skipped", r.Code)
	}
	r = run(t, "db", "backups", "-o", "json")
	if r.Code != 0 || strings.Count(r.Stdout, `"sha256"`) != 1 {
		t.Errorf("backups in $ROLLBACK_BACKUP_DIR: exit %d", r.Code)
	}
}

// TestConfirmOnTerminal: on a terminal undo shows the plan and asks; "n"
// cancels (exit 2, nothing changed), "y" goes ahead.
func TestConfirmOnTerminal(t *testing.T) {
	u := newDB(t, dbrollback.SQLite)
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	backups := t.TempDir()
	for _, tc := range []struct {
		answer  string
		code    int
		version int64
	}{{"n\n", exitcode.Refused, 4}, {"y\n", exitcode.OK, 3}} {
		t.Logf("answer %q", tc.answer)
		r := clitest.Run(t, clitest.Options{Stdin: tc.answer, TTY: true, Redact: redactLine}, "db", "undo", "--steps", "1", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups)
		code, errOut := r.Code, r.Stderr
		if code != tc.code || !strings.Contains(errOut, "DROP TABLE audit") || !strings.Contains(errOut, "revert 1 migration(s) to version 3? [y/N]") {
			t.Errorf("answer %q: exit %d, want %d after showing the plan and asking", tc.answer, code, tc.code)
		}
		if v := versionAfter(t, u, dir); v != tc.version {
			t.Errorf("answer %q: version %d, want %d", tc.answer, v, tc.version)
		}
	}
}
