package dbrollback

import (
	"bytes"
	goldenfile "github.com/vibestack/rollback/internal/golden"
	"path/filepath"
	"testing"
	"time"
)

// golden compares got with testdata/name.golden (go test -update rewrites it).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Assert(t, filepath.Join("testdata", name+".golden"), got)
}

func sampleStatus() *Status {
	return &Status{
		Database: "postgres://app:xxxxx@db:5432/shop", Engine: Postgres, ServerVersion: "PostgreSQL 15.18",
		Tool: ToolMigrate, ToolVersion: "migrate v4.20.1", Version: 3,
		Applied: []MigrationState{{1, "create_users", true}, {2, "create_orders", true}, {3, "add_users_email", false}},
		Pending: []MigrationState{{4, "create_audit", true}},
	}
}

func samplePlan() *Plan {
	return &Plan{
		Status: sampleStatus(), From: 3, To: 1, Remaining: []int64{1},
		Steps: []Migration{
			{Version: 3, Name: "add_users_email", DownFile: "m/3_add_users_email.down.sql", DownLine: 1, DownSQL: "-- values are lost\nALTER TABLE users DROP COLUMN email;\n", HasDown: true},
			{Version: 2, Name: "create_orders", DownFile: "m/2_create_orders.down.sql", DownLine: 1, DownSQL: "DROP TABLE orders;\n", HasDown: true},
		},
		DataLoss: []Finding{
			{File: "m/3_add_users_email.down.sql", Line: 2, Statement: "ALTER TABLE users DROP COLUMN email", Reason: "drops a column and its values"},
			{File: "m/2_create_orders.down.sql", Line: 1, Statement: "DROP TABLE orders", Reason: "drops a table and all its rows"},
		},
	}
}

func sampleBackup() *Backup {
	return &Backup{
		ID: "20261126T010000Z-postgres-shop-a1b2c3", File: "20261126T010000Z-postgres-shop-a1b2c3.dump",
		Database: "postgres://app:xxxxx@db:5432/shop", Engine: Postgres, MigrationTool: ToolMigrate, MigrationVersion: 3,
		Size: 104857600, SHA256: "00ff", DurationSeconds: 11.43, Verified: true,
		Verification: "pg_restore -f /dev/null read the whole archive",
		Created:      time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC),
	}
}

func TestRender(t *testing.T) {
	var b bytes.Buffer
	WriteStatus(&b, sampleStatus())
	golden(t, "status", b.Bytes())

	b.Reset()
	WritePlan(&b, samplePlan())
	golden(t, "plan", b.Bytes())

	b.Reset()
	WriteUndo(&b, &UndoResult{Plan: samplePlan(), Backup: sampleBackup(), Version: 1, Verified: true}, "/var/backups/db")
	golden(t, "undo-done", b.Bytes())

	b.Reset()
	WriteUndo(&b, &UndoResult{Plan: samplePlan(), Backup: sampleBackup(), Version: 2, Dirty: true, Failure: &Failure{
		Version: 2, Dirty: true, SchemaChanges: []string{"column users.email dropped"},
		RestoreCommand: "rollback db restore 20261126T010000Z-postgres-shop-a1b2c3 --database postgres://app:xxxxx@db:5432/shop --backup-dir /var/backups/db",
	}}, "/var/backups/db")
	golden(t, "undo-failed", b.Bytes())

	b.Reset()
	if err := WriteBackups(&b, "/var/backups/db", []Backup{*sampleBackup()}); err != nil {
		t.Fatal(err)
	}
	golden(t, "backups", b.Bytes())
}
