//go:build e2e

package db_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// undoOnce undoes one migration of a fresh 4-migration database and
// returns the database, the migrations, the backup directory and the backup.
func undoOnce(t *testing.T, e dbrollback.Engine, tool string) (string, string, string, *dbrollback.Backup) {
	t.Helper()
	u := newDB(t, e)
	dir := writeMigrations(t, tool, fourMigrations())
	applyUp(t, u, dir, tool)
	backups := t.TempDir()
	r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("undo: exit %d", r.Code)
	}
	return u, dir, backups, decode[dbrollback.UndoResult](t, r).Backup
}

// TestCorruptedPostgresBackupsAreDetected: a truncated and a byte-corrupted
// pg_dump archive fail the read-back (pg_restore --list would pass both),
// and restore refuses them.
func TestCorruptedPostgresBackupsAreDetected(t *testing.T) {
	u, _, backups, b := undoOnce(t, dbrollback.Postgres, dbrollback.ToolMigrate)
	ctx := context.Background()
	path := filepath.Join(backups, b.File)
	if err := dbrollback.VerifyDumpFile(ctx, dbrollback.Postgres, path); err != nil {
		t.Fatalf("good backup fails: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.dump")
	if err := os.WriteFile(truncated, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	corrupted := filepath.Join(t.TempDir(), "corrupted.dump")
	bad := append([]byte{}, data...)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] ^= 0xff
	}
	if err := os.WriteFile(corrupted, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"truncated": truncated, "corrupted": corrupted} {
		err := dbrollback.VerifyDumpFile(ctx, dbrollback.Postgres, p)
		if err == nil {
			t.Errorf("%s archive passes the read-back", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Corrupt the stored backup: restore refuses it and changes nothing.
	if err := os.WriteFile(path, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, u)
	r := run(t, "db", "restore", b.ID, "--database", u, "--backup-dir", backups, "--yes")
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "changed since it was taken") || !strings.Contains(r.Stderr, "pg_restore") {
		t.Errorf("restore of a corrupted backup: exit %d, want 2 naming the sha256 mismatch and pg_restore's error", r.Code)
	}
	if d := before.schema.Diff(takeSnapshot(t, u).schema); len(d) > 0 {
		t.Errorf("schema changed: %v", d)
	}
	// And it cannot be named with --backup-verified.
}

// TestBackupFailureLeavesDatabaseUntouched: when pg_dump is missing or the
// backup directory cannot be written, undo stops before reverting.
func TestBackupFailureLeavesDatabaseUntouched(t *testing.T) {
	cases := []struct {
		name   string
		engine dbrollback.Engine
		setup  func(t *testing.T) string // returns the backup dir
		want   string
	}{
		{name: "pg_dump missing from PATH", engine: dbrollback.Postgres,
			setup: func(t *testing.T) string { t.Setenv("PATH", t.TempDir()); return t.TempDir() },
			want:  "pg_dump"},
		{name: "mysqldump missing from PATH", engine: dbrollback.MySQL,
			setup: func(t *testing.T) string { t.Setenv("PATH", t.TempDir()); return t.TempDir() },
			want:  "mysqldump"},
	}
	for _, e := range engines {
		cases = append(cases, struct {
			name   string
			engine dbrollback.Engine
			setup  func(t *testing.T) string
			want   string
		}{name: "unwritable backup dir " + string(e), engine: e,
			setup: func(t *testing.T) string {
				f := filepath.Join(t.TempDir(), "not-a-dir")
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(f, "backups")
			},
			want: "create backup directory"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newDB(t, tc.engine)
			dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
			applyUp(t, u, dir, dbrollback.ToolMigrate)
			before := takeSnapshot(t, u)
			backups := tc.setup(t)
			r := run(t, "db", "undo", "--steps", "2", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups)
			if r.Code == exitcode.OK {
				t.Fatal("undo succeeded without a backup")
			}
			if !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "nothing was changed") {
				t.Errorf("stderr lacks %q and \"nothing was changed\"", tc.want)
			}
			if v := versionAfter(t, u, dir); v != 4 {
				t.Errorf("version %d, want 4", v)
			}
			if d := before.schema.Diff(takeSnapshot(t, u).schema); len(d) > 0 {
				t.Errorf("schema changed: %v", d)
			}
		})
	}
}

// TestBackupVerified: --backup-verified takes an existing verified backup of
// the same database at the same version, and refuses any other.
func TestBackupVerified(t *testing.T) {
	u, dir, backups, b := undoOnce(t, dbrollback.SQLite, dbrollback.ToolMigrate)
	// The backup is at version 4; the database is now at 3.
	r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "--backup-verified", b.ID)
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "version 4, the database is now at migrate version 3") {
		t.Errorf("stale backup: exit %d, want 2", r.Code)
	}
	other := newDB(t, dbrollback.SQLite)
	applyUp(t, other, dir, dbrollback.ToolMigrate)
	r = run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", other, "--migrations", dir, "--backup-dir", backups, "--backup-verified", b.ID)
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "is of sqlite://") {
		t.Errorf("backup of another database: exit %d, want 2", r.Code)
	}
	r = run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", other, "--migrations", dir, "--backup-dir", backups, "--backup-verified", "nope")
	if r.Code != exitcode.Refused {
		t.Errorf("unknown backup: exit %d, want 2", r.Code)
	}
	// A fresh backup at version 3, then reused.
	r = run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("undo: exit %d", r.Code)
	}
	b2 := decode[dbrollback.UndoResult](t, r).Backup
	run(t, "db", "restore", b2.ID, "--database", u, "--backup-dir", backups, "--yes")
	r = run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "--backup-verified", b2.ID)
	if r.Code != 0 || !strings.Contains(r.Stderr, "using verified backup "+b2.ID) {
		t.Errorf("reuse of a matching verified backup: exit %d", r.Code)
	}
	if err := os.WriteFile(filepath.Join(backups, b2.File), []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, "db", "restore", b.ID, "--database", u, "--backup-dir", backups, "--yes")
}

// TestChangedTableDataInAPostgresBackupIsDetected: PostgreSQL backups are
// uncompressed archives (pg_dump -Z0), so a byte changed inside a table's
// rows may still read back; the sha256 recorded with the backup catches
// it, and restore refuses the backup and changes nothing.
func TestChangedTableDataInAPostgresBackupIsDetected(t *testing.T) {
	u, _, backups, b := undoOnce(t, dbrollback.Postgres, dbrollback.ToolMigrate)
	path := filepath.Join(backups, b.File)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The users row (3, 'cyd') as COPY text in the archive.
	i := bytes.Index(data, []byte("3\tcyd\t"))
	if i < 0 {
		t.Fatalf("row 3 of users not found as text in %s: is the archive compressed?", b.File)
	}
	data[i+2] = 'k' // cyd -> kyd: the same length, still a valid row
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := dbrollback.VerifyDumpFile(context.Background(), dbrollback.Postgres, path); err != nil {
		t.Logf("the read-back alone also fails: %v", err)
	}
	err = dbrollback.CheckBackup(context.Background(), backups, b)
	if err == nil || !strings.Contains(err.Error(), "changed since it was taken") {
		t.Fatalf("check of a backup with a changed row: %v, want the sha256 mismatch", err)
	}
	before := takeSnapshot(t, u)
	r := run(t, "db", "restore", b.ID, "--database", u, "--backup-dir", backups, "--yes")
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "changed since it was taken") {
		t.Errorf("restore of a backup with a changed row: exit %d, want 2 naming the sha256 mismatch\n%s", r.Code, r.Stderr)
	}
	if strings.Contains(r.Stderr, "<nil>") {
		t.Errorf("restore's error shows <nil>: %s", r.Stderr)
	}
	if d := before.schema.Diff(takeSnapshot(t, u).schema); len(d) > 0 {
		t.Errorf("schema changed: %v", d)
	}
}
