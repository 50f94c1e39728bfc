//go:build e2e

package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/journal"
)

// releaseThenRestore migrates a fresh database to version 1, backs it up,
// migrates it to version 2 (the bad release), runs breakRelease on it and
// restores the backup, recording the restore in a journal directory of its
// own. It returns the database, the backup, the journal directory and the
// incident's id.
func releaseThenRestore(t *testing.T, e dbrollback.Engine, tool string, breakRelease func(u string)) (string, *dbrollback.Backup, string, string) {
	t.Helper()
	u := newDB(t, e)
	ms := fourMigrations()
	v1 := writeMigrations(t, tool, ms[:1])
	applyUp(t, u, v1, tool)
	backups := t.TempDir()
	b, err := dbrollback.TakeBackup(context.Background(), dbrollback.BackupOptions{
		Options: dbrollback.Options{DatabaseURL: u, MigrationsDir: v1}, Dir: backups})
	if err != nil {
		t.Fatalf("backup at version 1: %v", err)
	}
	applyUp(t, u, writeMigrations(t, tool, ms[:2]), tool)
	if breakRelease != nil {
		breakRelease(u)
	}
	journals := t.TempDir()
	r := run(t, "db", "restore", b.ID, "--database", u, "--backup-dir", backups, "--yes", "--journal-dir", journals)
	if r.Code != 0 {
		t.Fatalf("restore: exit %d\n%s", r.Code, r.Stderr)
	}
	jsonl, _ := filepath.Glob(filepath.Join(journals, "*.jsonl"))
	if len(jsonl) != 1 {
		t.Fatalf("journals %v, want one", jsonl)
	}
	return u, b, journals, strings.TrimSuffix(filepath.Base(jsonl[0]), ".jsonl")
}

// restoreEvidence reads the incident's one evidence bundle through
// `incident evidence -o json` and `--export DIR`: the manifest and the
// files by name.
func restoreEvidence(t *testing.T, journals, id string) (evidence.Manifest, map[string]string) {
	t.Helper()
	r := run(t, "incident", "evidence", id, "--journal-dir", journals, "-o", "json")
	if r.Code != 0 {
		t.Fatalf("incident evidence: exit %d\n%s", r.Code, r.Stderr)
	}
	var res struct {
		Bundles []struct {
			Manifest evidence.Manifest `json:"manifest"`
		} `json:"bundles"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil || len(res.Bundles) != 1 {
		t.Fatalf("incident evidence -o json: %v, %d bundles\n%s", err, len(res.Bundles), r.Stdout)
	}
	out := t.TempDir()
	if r := run(t, "incident", "evidence", id, "--journal-dir", journals, "--export", out); r.Code != 0 {
		t.Fatalf("incident evidence --export: exit %d", r.Code)
	}
	files := map[string]string{}
	for _, f := range res.Bundles[0].Manifest.Files {
		b, err := os.ReadFile(filepath.Join(out, id, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(b)
	}
	return res.Bundles[0].Manifest, files
}

// assertNoPasswordKept reads every file of the journal directory (the
// bundle through its export, whose files restoreEvidence returns, and its
// manifest through `incident evidence -o json`, which run checks) and
// fails on the database password.
func assertNoPasswordKept(t *testing.T, journals string, exported map[string]string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(journals, "*"))
	if len(paths) < 3 {
		t.Fatalf("%s holds %v, want the journal, the report and the bundle", journals, paths)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".tar.gz") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), password) {
			t.Errorf("%s holds the database password", p)
		}
	}
	for name, data := range exported {
		if strings.Contains(data, password) {
			t.Errorf("the evidence's %s holds the database password", name)
		}
	}
}

// TestRestoreKeepsTheStateItOverwrites: a restore of the backup at version 1
// over the bad release at version 2 keeps, before it writes, the state it
// overwrites (database/status.json: version 2) and the backup that replaces
// it (database/restore.json); the report shows both, and the password is
// nowhere in the journal, the report or the bundle.
func TestRestoreKeepsTheStateItOverwrites(t *testing.T) {
	for _, tc := range []struct {
		engine dbrollback.Engine
		tool   string
	}{{dbrollback.Postgres, dbrollback.ToolMigrate}, {dbrollback.Postgres, dbrollback.ToolGoose}, {dbrollback.MySQL, dbrollback.ToolMigrate}} {
		t.Run(string(tc.engine)+"/"+tc.tool, func(t *testing.T) {
			u, b, journals, id := releaseThenRestore(t, tc.engine, tc.tool, nil)
			if st, err := dbrollback.ReadState(context.Background(), dbrollback.Options{DatabaseURL: u}); err != nil || st.Version != 1 {
				t.Errorf("after the restore: %+v, %v; want version 1", st, err)
			}
			m, files := restoreEvidence(t, journals, id)
			if len(m.Errors) != 0 {
				t.Errorf("collection errors: %+v", m.Errors)
			}
			var st dbrollback.Status
			if err := json.Unmarshal([]byte(files["database/status.json"]), &st); err != nil {
				t.Fatalf("database/status.json: %v\n%v", err, m.Files)
			}
			if st.Version != 2 || st.Dirty || st.Tool != tc.tool || len(st.Applied) == 0 || st.Applied[len(st.Applied)-1].Version != 2 {
				t.Errorf("the state kept: %+v; want the bad release, %s version 2, clean", st, tc.tool)
			}
			var kept dbrollback.Backup
			if err := json.Unmarshal([]byte(files["database/restore.json"]), &kept); err != nil {
				t.Fatalf("database/restore.json: %v", err)
			}
			if kept.ID != b.ID || kept.MigrationVersion != 1 || kept.MigrationTool != tc.tool || kept.SHA256 != b.SHA256 || kept.Size != b.Size || !kept.Created.Equal(b.Created) {
				t.Errorf("the backup kept: %+v; want %+v", kept, b)
			}
			if _, ok := files["database/plan.json"]; ok {
				t.Error("a restore kept a plan")
			}
			// The journal's db step says what the restore changed: 2 -> 1.
			es, err := journal.Read(journals, id)
			if err != nil {
				t.Fatal(err)
			}
			changed := false
			for _, e := range es {
				if e.Step == "db" && e.Action == journal.ActionStepCompleted {
					before, _ := e.Before.(map[string]any)
					after, _ := e.After.(map[string]any)
					changed = fmt.Sprint(before["version"]) == "2" && fmt.Sprint(after["version"]) == "1"
				}
			}
			if !changed {
				t.Errorf("the journal's db step does not record version 2 -> 1: %+v", es)
			}
			r := run(t, "incident", "report", id, "--journal-dir", journals)
			want := "Before the rollback: version 2 (" + tc.tool + "); the restore replaces it with backup " + b.ID + " (version 1)."
			if r.Code != 0 || !strings.Contains(r.Stdout, want) {
				t.Errorf("report: exit %d, lacks %q:\n%s", r.Code, want, r.Stdout)
			}
			assertNoPasswordKept(t, journals, files)
		})
	}
}

// TestRestoreWhoseStateCannotBeRead: with the tracking table gone, the
// state cannot be read for the evidence; the failure is in the manifest's
// errors and the report, the backup is still kept, and the restore runs.
func TestRestoreWhoseStateCannotBeRead(t *testing.T) {
	u, b, journals, id := releaseThenRestore(t, dbrollback.Postgres, dbrollback.ToolMigrate, func(u string) {
		execSQL(t, u, "DROP TABLE schema_migrations")
	})
	if st, err := dbrollback.ReadState(context.Background(), dbrollback.Options{DatabaseURL: u}); err != nil || st.Version != 1 {
		t.Errorf("after the restore: %+v, %v; want version 1", st, err)
	}
	m, files := restoreEvidence(t, journals, id)
	if len(m.Errors) != 1 || m.Errors[0].Source != "database status" || !strings.Contains(m.Errors[0].Error, "no schema_migrations table") {
		t.Errorf("collection errors %+v, want the database status naming the missing schema_migrations", m.Errors)
	}
	if _, ok := files["database/status.json"]; ok {
		t.Error("a state was kept")
	}
	if !strings.Contains(files["database/restore.json"], b.ID) {
		t.Errorf("database/restore.json: %q", files["database/restore.json"])
	}
	r := run(t, "incident", "report", id, "--journal-dir", journals)
	for _, want := range []string{"the migration state could not be read; the restore replaces it with backup " + b.ID, "no schema_migrations table"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.Stdout)
		}
	}
	assertNoPasswordKept(t, journals, files)
}
