package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/vibestack/rollback/pkg/atomicfile"
)

// backupSQLite copies the database with VACUUM INTO (a consistent snapshot
// even while others write) and checks the copy with PRAGMA integrity_check.
func backupSQLite(ctx context.Context, t *Target, path string, b *Backup) error {
	db, err := open(ctx, t, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	b.DumpTool = "VACUUM INTO"
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&b.DumpToolVersion); err != nil {
		return fmt.Errorf("read sqlite version: %w", err)
	}
	b.DumpToolVersion = "SQLite " + b.DumpToolVersion
	// VACUUM INTO writes into an empty file that exists: create it 0600
	// first, so that the copy of the database is never readable by others.
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return fmt.Errorf("create backup file: %w", err)
	}
	f.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("VACUUM INTO %s: %w", path, err)
	}
	if err := syncFile(path); err != nil {
		return err
	}
	if err := sqliteIntegrity(ctx, path); err != nil {
		return err
	}
	size, sum, err := hashFile(path)
	if err != nil {
		return err
	}
	b.Size, b.SHA256 = size, sum
	b.Verification = "PRAGMA integrity_check returned ok"
	return nil
}

// syncFile fsyncs the file at path.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}

// sqliteIntegrity runs PRAGMA integrity_check on the database file at path,
// read-only.
func sqliteIntegrity(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("PRAGMA integrity_check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("PRAGMA integrity_check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("PRAGMA integrity_check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("PRAGMA integrity_check: %s", strings.Join(msgs, "; "))
	}
	return nil
}
