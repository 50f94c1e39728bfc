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
