package evidence

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// sqliteAt returns the URL of a SQLite database whose golang-migrate
// tracking table records version (none when version < 0).
func sqliteAt(t *testing.T, version int64, dirty bool) string {
	t.Helper()
	u := "sqlite://" + filepath.Join(t.TempDir(), "app.db")
	db, err := dbrollback.OpenDB(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE users (id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	if version >= 0 {
		if _, err := db.Exec("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("INSERT INTO schema_migrations VALUES (?, ?)", version, dirty); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// TestDatabaseRestoreKeepsStateAndBackup: a restore keeps the state it
// overwrites, read without migration files, and the backup replacing it;
// no plan.
func TestDatabaseRestoreKeepsStateAndBackup(t *testing.T) {
	u := sqliteAt(t, 2, true)
	b := &dbrollback.Backup{ID: "20261126T010000Z-sqlite-app-abc123", Database: u, Engine: dbrollback.SQLite,
		MigrationTool: dbrollback.ToolMigrate, MigrationVersion: 1, Size: 4096, SHA256: "ab12", Created: time.Unix(1e9, 0).UTC()}
	res := collect(t, nil, DefaultLimits(), Database{Options: dbrollback.Options{DatabaseURL: u, MigrationsDir: "/does/not/matter"}, Restore: b})
	m := res.Bundle.Manifest()
	if got := strings.Join(fileNames(m), " "); got != "database/status.json database/restore.json" || len(m.Errors) != 0 {
		t.Fatalf("files %q, errors %v", got, m.Errors)
	}
	var st dbrollback.Status
	data, _ := res.Bundle.File("database/status.json")
	if err := json.Unmarshal(data, &st); err != nil || st.Version != 2 || !st.Dirty || st.Tool != dbrollback.ToolMigrate {
		t.Errorf("status %+v, %v: want migrate version 2, dirty", st, err)
	}
	var kept dbrollback.Backup
	data, _ = res.Bundle.File("database/restore.json")
	if err := json.Unmarshal(data, &kept); err != nil || kept.ID != b.ID || kept.SHA256 != b.SHA256 || kept.MigrationVersion != 1 {
		t.Errorf("restore.json %+v, %v", kept, err)
	}
	d := res.Summary.Database
	if d == nil || d.Version != 2 || !d.Dirty || d.RestoreFrom != b.ID || d.RestoreVersion == nil || *d.RestoreVersion != 1 || d.PlanTo != nil || d.Error != "" {
		t.Errorf("summary %+v", d)
	}
}

// TestDatabaseStateErrorsAreKept: a state that cannot be read is an error
// of the manifest and of the summary, never the end of the collection; the
// backup is kept all the same.
func TestDatabaseStateErrorsAreKept(t *testing.T) {
	u := sqliteAt(t, -1, false)
	b := &dbrollback.Backup{ID: "b1", MigrationTool: dbrollback.ToolMigrate, MigrationVersion: 1}
	res := collect(t, nil, DefaultLimits(), Database{Options: dbrollback.Options{DatabaseURL: u}, Restore: b})
	m := res.Bundle.Manifest()
	if got := strings.Join(fileNames(m), " "); got != "database/restore.json" {
		t.Errorf("files %q", got)
	}
	if len(m.Errors) != 1 || m.Errors[0].Source != "database status" || !strings.Contains(m.Errors[0].Error, "no schema_migrations table") {
		t.Errorf("errors %+v", m.Errors)
	}
	if d := res.Summary.Database; d == nil || d.Tool != "" || d.RestoreFrom != "b1" || !strings.Contains(d.Error, "no schema_migrations table") {
		t.Errorf("summary %+v", d)
	}

	// Without migration files and without a restore, the state alone.
	res = collect(t, nil, DefaultLimits(), Database{Options: dbrollback.Options{DatabaseURL: sqliteAt(t, 3, false)}})
	if got := strings.Join(fileNames(res.Bundle.Manifest()), " "); got != "database/status.json" || res.Summary.Database.Version != 3 {
		t.Errorf("files %q, summary %+v", got, res.Summary.Database)
	}
}
