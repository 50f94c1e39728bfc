//go:build e2e

package db_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// TestUndoTwoAndRestore: for every engine and tool, apply 4 migrations with
// data, undo 2: the backup exists and verifies, the version and schema are
// right and the rows of untouched tables are intact; then restore the backup
// into a fresh database and compare it with the state before the undo.
func TestUndoTwoAndRestore(t *testing.T) {
	for _, e := range engines {
		for _, tool := range tools {
			t.Run(string(e)+"/"+tool, func(t *testing.T) {
				t.Parallel()
				u := newDB(t, e)
				dir := writeMigrations(t, tool, fourMigrations())
				applyUp(t, u, dir, tool)
				before := takeSnapshot(t, u)
				backups := t.TempDir()
				common := []string{"--database", u, "--migrations", dir}

				st := run(t, append([]string{"db", "status", "-o", "json"}, common...)...)
				if st.Code != 0 {
					t.Fatalf("status: exit %d", st.Code)
				}
				status := decode[dbrollback.Status](t, st)
				if status.Tool != tool || status.Version != 4 || len(status.Applied) != 4 || status.Dirty {
					t.Fatalf("status = %+v, want %s at 4 with 4 applied", status, tool)
				}

				r := run(t, append([]string{"db", "undo", "--steps", "2", "--yes", "--accept-data-loss", "--backup-dir", backups, "-o", "json"}, common...)...)
				if r.Code != exitcode.OK {
					t.Fatalf("undo: exit %d", r.Code)
				}
				res := decode[dbrollback.UndoResult](t, r)
				if !res.Verified || res.Version != 2 || res.Dirty || res.Backup == nil || !res.Backup.Verified {
					t.Fatalf("undo result = %+v", res)
				}
				if res.Backup.MigrationVersion != 4 || res.Backup.Size == 0 || len(res.Backup.SHA256) != 64 || res.Backup.MigrationTool != tool {
					t.Errorf("backup metadata = %+v", res.Backup)
				}
				if err := dbrollback.CheckBackup(context.Background(), backups, res.Backup); err != nil {
					t.Errorf("backup does not verify: %v", err)
				}

				after := takeSnapshot(t, u)
				if _, ok := after.schema["audit"]; ok {
					t.Error("table audit still exists after undoing migration 4")
				}
				if _, ok := after.schema["users"]["email"]; ok {
					t.Error("column users.email still exists after undoing migration 3")
				}
				for _, tbl := range []string{"users", "orders"} {
					if after.counts[tbl] != before.counts[tbl] {
						t.Errorf("%s has %d rows after the undo, %d before", tbl, after.counts[tbl], before.counts[tbl])
					}
				}
				if v := versionAfter(t, u, dir); v != 2 {
					t.Errorf("status version = %d, want 2", v)
				}

				list := run(t, "db", "backups", "--backup-dir", backups)
				if list.Code != 0 || !strings.Contains(list.Stdout, res.Backup.ID) {
					t.Errorf("backups does not list %s", res.Backup.ID)
				}

				fresh := newDB(t, e)
				rs := run(t, "db", "restore", res.Backup.ID, "--database", fresh, "--backup-dir", backups, "--yes")
				if rs.Code != exitcode.OK {
					t.Fatalf("restore: exit %d", rs.Code)
				}
				restored := takeSnapshot(t, fresh)
				if diff := cmp.Diff(before.counts, restored.counts); diff != "" {
					t.Errorf("row counts of the restored database differ from before the undo (-before +restored):\n%s", diff)
				}
				if diff := before.schema.Diff(restored.schema); len(diff) > 0 {
					t.Errorf("schema of the restored database differs from before the undo: %v", diff)
				}
				if v := versionAfter(t, fresh, dir); v != 4 {
					t.Errorf("restored database is at version %d, want 4", v)
				}

				// The way back on the same database.
				rs = run(t, "db", "restore", res.Backup.ID, "--database", u, "--backup-dir", backups, "--yes")
				if rs.Code != exitcode.OK {
					t.Fatalf("restore in place: exit %d", rs.Code)
				}
				if diff := cmp.Diff(before.counts, takeSnapshot(t, u).counts); diff != "" {
					t.Errorf("row counts after restoring in place differ (-before +restored):\n%s", diff)
				}
			})
		}
	}
}

func versionAfter(t *testing.T, u, dir string) int64 {
	t.Helper()
	st, err := dbrollback.GetStatus(context.Background(), dbrollback.Options{DatabaseURL: u, MigrationsDir: dir})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.Dirty {
		t.Errorf("database is dirty at %d", st.Version)
	}
	return st.Version
}

// TestPlanShowsDownsAndDataLoss checks the plan output: the migrations in
// revert order with their down SQL, and the data-loss statements with file
// and line.
func TestPlanShowsDownsAndDataLoss(t *testing.T) {
	u := newDB(t, dbrollback.SQLite)
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	r := run(t, "db", "plan", "--steps", "2", "--database", u, "--migrations", dir, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("plan: exit %d", r.Code)
	}
	p := decode[dbrollback.Plan](t, r)
	if len(p.Steps) != 2 || p.Steps[0].Version != 4 || p.Steps[1].Version != 3 || p.To != 2 {
		t.Fatalf("plan steps = %+v, to %d", p.Steps, p.To)
	}
	want := []dbrollback.Finding{
		{File: filepath.Join(dir, "4_create_audit.down.sql"), Line: 1, Statement: "DROP TABLE audit", Reason: "drops a table and all its rows"},
		{File: filepath.Join(dir, "3_add_users_email.down.sql"), Line: 2, Statement: "ALTER TABLE users DROP COLUMN email", Reason: "drops a column and its values"},
	}
	if diff := cmp.Diff(want, p.DataLoss); diff != "" {
		t.Errorf("data loss (-want +got):\n%s", diff)
	}
	text := run(t, "db", "plan", "--to", "2", "--database", u, "--migrations", dir)
	for _, s := range []string{"4_create_audit", "| DROP TABLE audit;", "3_add_users_email.down.sql:2", "--accept-data-loss"} {
		if !strings.Contains(text.Stdout, s) {
			t.Errorf("plan output lacks %q", s)
		}
	}
}
