//go:build e2e

package db_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// undoAndRestore undoes one migration of u (taking the verified backup)
// and restores that backup, both through the CLI.
func undoAndRestore(t *testing.T, u string) {
	t.Helper()
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	backups := t.TempDir()
	r := run(t, "db", "undo", "--steps", "1", "--yes", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", backups, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("undo: exit %d: %s", r.Code, r.Stderr)
	}
	b := decode[dbrollback.UndoResult](t, r).Backup
	if b == nil {
		t.Fatal("no backup taken")
	}
	if r := run(t, "db", "restore", b.ID, "--database", u, "--backup-dir", backups, "--yes"); r.Code != 0 {
		t.Fatalf("restore: exit %d: %s", r.Code, r.Stderr)
	}
	if v := versionAfter(t, u, dir); v != 4 {
		t.Errorf("version %d after the restore, want 4", v)
	}
}

// TestPasswordOnlyInPGPASSWORD: a URL without a password and the password
// in $PGPASSWORD (as libpq users keep it) works for the backup (pg_dump)
// and the restore (pg_restore); rollback used to set an empty PGPASSWORD
// over the user's.
func TestPasswordOnlyInPGPASSWORD(t *testing.T) {
	u, err := url.Parse(newDB(t, dbrollback.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	t.Setenv("PGPASSWORD", password)
	undoAndRestore(t, u.String())
}

// TestMySQLDatabaseNameLikeAnOption: a database named "-..." is a name for
// mysqldump and mysql, never an option.
func TestMySQLDatabaseNameLikeAnOption(t *testing.T) {
	requireServer(t, dbrollback.MySQL)
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := "-rb-dash-" + hex.EncodeToString(r[:])
	admin := serverURL(dbrollback.MySQL) + "/mysql"
	ctx := context.Background()
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := dbrollback.OpenDB(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Exec("DROP DATABASE IF EXISTS `" + name + "`")
	})
	undoAndRestore(t, serverURL(dbrollback.MySQL)+"/"+name)
}
