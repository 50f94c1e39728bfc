//go:build e2e

package db_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// halfFailingDown has a 4th migration whose down drops a column and then
// fails: MariaDB commits the first statement, PostgreSQL rolls both back.
func halfFailingDown() []migration {
	m := fourMigrations()
	m[3] = migration{name: "audit_and_note",
		up:   "CREATE TABLE audit (id INTEGER PRIMARY KEY, note VARCHAR(100));\nALTER TABLE orders ADD COLUMN note VARCHAR(50);\n",
		down: "ALTER TABLE orders DROP COLUMN note;\nDROP TABLE no_such_table;\nDROP TABLE audit;\n"}
	return m
}

// TestHalfFailedDown: the report states the real schema state and the
// restore command, and the restore command brings the database back. (With
// goose on PostgreSQL the failed down changes nothing at all: see
// TestFailedDownThatChangedNothing.)
func TestHalfFailedDown(t *testing.T) {
	cases := []struct {
		engine  dbrollback.Engine
		tool    string
		version int64
		dirty   bool
		schema  []string // expected schema changes
		explain string
	}{
		{dbrollback.MySQL, dbrollback.ToolMigrate, 3, true, []string{"column orders.note dropped"}, "commits DDL statement by statement"},
		{dbrollback.MySQL, dbrollback.ToolGoose, 4, false, []string{"column orders.note dropped"}, "schema changed since before the undo"},
		{dbrollback.Postgres, dbrollback.ToolMigrate, 3, true, nil, "schema is still version 4"},
	}
	for _, tc := range cases {
		t.Run(string(tc.engine)+"/"+tc.tool, func(t *testing.T) {
			t.Parallel()
			u := newDB(t, tc.engine)
			dir := writeMigrations(t, tc.tool, halfFailingDown())
			applyUp(t, u, dir, tc.tool)
			before := takeSnapshot(t, u)
			backups := t.TempDir()
			r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "-o", "json")
			if r.Code != exitcode.Unhealthy {
				t.Fatalf("exit %d, want %d", r.Code, exitcode.Unhealthy)
			}
			res := decode[dbrollback.UndoResult](t, r)
			f := res.Failure
			if f == nil {
				t.Fatal("no failure report")
			}
			if f.Version != tc.version || f.Dirty != tc.dirty {
				t.Errorf("reported version %d dirty=%t, want %d dirty=%t", f.Version, f.Dirty, tc.version, tc.dirty)
			}
			if strings.Join(f.SchemaChanges, ";") != strings.Join(tc.schema, ";") {
				t.Errorf("reported schema changes %q, want %q", f.SchemaChanges, tc.schema)
			}
			if !strings.Contains(f.Explanation, tc.explain) {
				t.Errorf("explanation %q lacks %q", f.Explanation, tc.explain)
			}
			wantCmd := "rollback db restore " + res.Backup.ID + " --database "
			if !strings.Contains(f.RestoreCommand, wantCmd) || !strings.Contains(r.Stderr, wantCmd) {
				t.Errorf("restore command %q not reported", wantCmd)
			}
			// The real schema matches the report.
			if d := before.schema.Diff(takeSnapshot(t, u).schema); strings.Join(d, ";") != strings.Join(tc.schema, ";") {
				t.Errorf("real schema changes %q, reported %q", d, f.SchemaChanges)
			}
			// Following the report's restore command brings back the state before.
			rs := run(t, "db", "restore", res.Backup.ID, "--database", u, "--backup-dir", backups, "--yes")
			if rs.Code != 0 {
				t.Fatalf("restore: exit %d", rs.Code)
			}
			if d := before.schema.Diff(takeSnapshot(t, u).schema); len(d) > 0 {
				t.Errorf("after restore the schema differs: %v", d)
			}
			if v := versionAfter(t, u, dir); v != 4 {
				t.Errorf("after restore version %d, want 4", v)
			}
		})
	}
}

// TestConcurrentUndo: two undos of the same database at the same time:
// exactly one proceeds, the other is refused (exit code 2) and the database
// ends exactly one step back.
func TestConcurrentUndo(t *testing.T) {
	for _, e := range engines {
		for _, tool := range tools {
			t.Run(string(e)+"/"+tool, func(t *testing.T) {
				t.Parallel()
				u := newDB(t, e)
				dir := writeMigrations(t, tool, fourMigrations())
				applyUp(t, u, dir, tool)
				backups := t.TempDir()
				// The run that holds the lock waits in Confirm until the other has
				// returned, so the two always overlap.
				otherDone := make(chan struct{})
				var once sync.Once
				confirm := func(*dbrollback.Plan) (bool, error) {
					select {
					case <-otherDone:
					case <-time.After(30 * time.Second):
					}
					return true, nil
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i := range 2 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = dbrollback.Undo(context.Background(), dbrollback.UndoOptions{
							Options:        dbrollback.Options{DatabaseURL: u, MigrationsDir: dir},
							Request:        dbrollback.Request{Steps: 1},
							AcceptDataLoss: true, BackupDir: backups, Confirm: confirm,
						})
						once.Do(func() { close(otherDone) })
					}()
				}
				wg.Wait()
				ok, locked := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case errors.Is(err, dbrollback.ErrLocked) && exitcode.Code(err) == exitcode.Refused:
						locked++
						assertNoPassword(t, err.Error())
						t.Logf("refused: %v", err)
					default:
						t.Errorf("unexpected error: %v", err)
					}
				}
				if ok != 1 || locked != 1 {
					t.Errorf("%d succeeded, %d refused as locked; want 1 and 1", ok, locked)
				}
				if v := versionAfter(t, u, dir); v != 3 {
					t.Errorf("version %d, want 3", v)
				}
			})
		}
	}
}

// TestNoPasswordInErrors: a wrong password, an unknown database and a
// failing pg_dump never show the password.
func TestNoPasswordInErrors(t *testing.T) {
	for _, e := range []dbrollback.Engine{dbrollback.Postgres, dbrollback.MySQL} {
		requireServer(t, e)
		const wrong = "Wrong-Pw-q8Z"
		base := strings.Replace(serverURL(e), password, wrong, 1)
		dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
		for _, args := range [][]string{
			{"db", "status", "--database", base + "/postgres", "--migrations", dir},
			{"db", "undo", "--steps", "1", "--yes", "--database", serverURL(e) + "/no_such_db", "--migrations", dir},
			{"db", "restore", "x", "--database", base + "/x", "--yes"},
		} {
			r := run(t, args...) // run checks the real password
			if r.Code == 0 {
				t.Errorf("%s succeeded", redactArgs(args))
			}
			if strings.Contains(r.Stdout+r.Stderr, wrong) {
				t.Errorf("wrong password leaked: %s", r.Stderr)
			}
		}
	}
}

// TestRollbackScript: scripts/rollback_db_migration.sh N reads DATABASE_URL
// and MIGRATIONS_DIR and undoes N migrations with the built binary.
func TestRollbackScript(t *testing.T) {
	root, bin := clitest.RepoRoot(), clitest.Binary(t)
	u := newDB(t, dbrollback.SQLite)
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "rollback_db_migration.sh"), "1", "--accept-data-loss")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+u, "MIGRATIONS_DIR="+dir, "ROLLBACK_BACKUP_DIR="+t.TempDir(), "ROLLBACK_BIN="+bin)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("script: %v", err)
	}
	if v := versionAfter(t, u, dir); v != 3 {
		t.Errorf("version %d, want 3", v)
	}
	cmd = exec.Command("bash", filepath.Join(root, "scripts", "rollback_db_migration.sh"))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+u, "MIGRATIONS_DIR="+dir, "ROLLBACK_BIN="+bin)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "usage") {
		t.Errorf("script without N: %v %s", err, out)
	}
}

// TestDumpToolStderrIsRedacted: whatever pg_dump prints on failure (here a
// stand-in that echoes its password and URL) reaches the user redacted, and
// the database is untouched.
func TestDumpToolStderrIsRedacted(t *testing.T) {
	u := newDB(t, dbrollback.Postgres)
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	fake := t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'pg_dump (PostgreSQL) 15'; exit 0; }\n" +
		"echo \"pg_dump: error: connection to $* failed: password $PGPASSWORD rejected; url postgres://u:$PGPASSWORD@h/db\" >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", t.TempDir())
	if r.Code == 0 || !strings.Contains(r.Stderr, "password xxxxx rejected") || !strings.Contains(r.Stderr, "nothing was changed") {
		t.Errorf("exit %d, want a failure with the redacted pg_dump message", r.Code)
	}
	if v := versionAfter(t, u, dir); v != 4 {
		t.Errorf("version %d, want 4", v)
	}
}

// TestRevertDoesNotQueueForever: a long transaction holds a lock the down
// needs; the revert gives up after --lock-timeout instead of queueing (and
// making all traffic queue behind it), and the report is exact.
func TestRevertDoesNotQueueForever(t *testing.T) {
	for _, tool := range tools {
		t.Run(tool, func(t *testing.T) {
			t.Parallel()
			u := newDB(t, dbrollback.Postgres)
			dir := writeMigrations(t, tool, fourMigrations())
			applyUp(t, u, dir, tool)
			db, err := dbrollback.OpenDB(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// ACCESS SHARE: pg_dump can read, DROP TABLE must wait.
			if _, err := tx.Exec("SELECT count(*) FROM audit"); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--lock-timeout", "1s", "--database", u, "--migrations", dir, "--backup-dir", t.TempDir())
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("undo took %s with a 1s lock timeout", took)
			}
			if !strings.Contains(r.Stderr, "lock timeout") {
				t.Errorf("stderr does not name the lock timeout")
			}
			switch tool {
			case dbrollback.ToolGoose:
				if r.Code != exitcode.Error || !strings.Contains(r.Stderr, "nothing was changed") {
					t.Errorf("exit %d, want %d and \"nothing was changed\"", r.Code, exitcode.Error)
				}
			case dbrollback.ToolMigrate:
				// golang-migrate records 3 dirty although PostgreSQL kept version 4.
				if r.Code != exitcode.Unhealthy || !strings.Contains(r.Stderr, "force 4") {
					t.Errorf("exit %d, want %d proposing force 4", r.Code, exitcode.Unhealthy)
				}
			}
			tx.Rollback()
			if n := queryInt(t, u, "SELECT count(*) FROM audit"); n != 2 {
				t.Errorf("audit has %d rows, want 2", n)
			}
		})
	}
}

// TestFailedDownThatChangedNothing: goose on PostgreSQL runs the down in a
// transaction and records nothing on failure: the undo says nothing was
// changed (exit 1, not 3) and names the backup it took.
func TestFailedDownThatChangedNothing(t *testing.T) {
	u := newDB(t, dbrollback.Postgres)
	dir := writeMigrations(t, dbrollback.ToolGoose, halfFailingDown())
	applyUp(t, u, dir, dbrollback.ToolGoose)
	before := takeSnapshot(t, u)
	r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", t.TempDir())
	if r.Code != exitcode.Error || !strings.Contains(r.Stderr, "nothing was changed (version 4, schema as before)") || !strings.Contains(r.Stderr, "no_such_table") {
		t.Errorf("exit %d, want %d saying nothing was changed and why", r.Code, exitcode.Error)
	}
	if d := before.schema.Diff(takeSnapshot(t, u).schema); len(d) > 0 {
		t.Errorf("schema changed: %v", d)
	}
	if v := versionAfter(t, u, dir); v != 4 {
		t.Errorf("version %d, want 4", v)
	}
}
