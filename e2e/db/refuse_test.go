//go:build e2e

package db_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// TestRefusals: a missing down, an empty down, a dirty database, fewer
// applied than asked and data loss without --accept-data-loss are refused
// with exit code 2 and nothing changes (version, schema, rows, no backup).
func TestRefusals(t *testing.T) {
	cases := []struct {
		name    string
		migs    func() []migration
		prepare func(t *testing.T, u string, tool string)
		args    []string
		want    string
	}{
		{name: "missing down",
			migs: func() []migration { m := fourMigrations(); m[3].noDown = true; return m },
			args: []string{"--steps", "1", "--accept-data-loss"}, want: "has no down"},
		{name: "empty down",
			migs: func() []migration { m := fourMigrations(); m[2].down = "-- nothing to do\n"; return m },
			args: []string{"--steps", "2", "--accept-data-loss"}, want: "has an empty down"},
		{name: "fewer applied than asked",
			migs: fourMigrations,
			args: []string{"--steps", "5", "--accept-data-loss"}, want: "only 4 applied"},
		{name: "data loss without flag",
			migs: fourMigrations,
			args: []string{"--steps", "1"}, want: "--accept-data-loss"},
		{name: "target above current",
			migs: fourMigrations,
			args: []string{"--to", "7"}, want: "above the current version"},
		{name: "dirty",
			migs: fourMigrations,
			prepare: func(t *testing.T, u, tool string) {
				if tool != dbrollback.ToolMigrate {
					t.Skip("goose has no dirty flag")
				}
				execSQL(t, u, "UPDATE schema_migrations SET dirty = true")
			},
			args: []string{"--steps", "1", "--accept-data-loss"}, want: "dirty at version 4"},
	}
	for _, e := range engines {
		for _, tool := range tools {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s/%s/%s", e, tool, tc.name), func(t *testing.T) {
					t.Parallel()
					u := newDB(t, e)
					dir := writeMigrations(t, tool, tc.migs())
					applyUp(t, u, dir, tool)
					if tc.prepare != nil {
						tc.prepare(t, u, tool)
					}
					before := takeSnapshot(t, u)
					backups := filepath.Join(t.TempDir(), "backups")
					r := run(t, append([]string{"db", "undo", "--yes", "--database", u, "--migrations", dir, "--backup-dir", backups}, tc.args...)...)
					if r.Code != exitcode.Refused {
						t.Errorf("exit %d, want %d (refused)", r.Code, exitcode.Refused)
					}
					if !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, "nothing was changed") && tc.name != "dirty" && tc.name != "target above current" {
						t.Errorf("stderr lacks %q and \"nothing was changed\"", tc.want)
					}
					after := takeSnapshot(t, u)
					if d := before.schema.Diff(after.schema); len(d) > 0 {
						t.Errorf("schema changed: %v", d)
					}
					for tbl, n := range before.counts {
						if after.counts[tbl] != n {
							t.Errorf("%s: %d rows, %d before", tbl, after.counts[tbl], n)
						}
					}
					if _, err := os.Stat(backups); err == nil {
						t.Errorf("a refused undo created the backup directory")
					}
					// plan refuses the same way.
					planArgs := []string{"db", "plan", "--database", u, "--migrations", dir}
					for _, a := range tc.args {
						if a != "--accept-data-loss" {
							planArgs = append(planArgs, a)
						}
					}
					p := run(t, planArgs...)
					if tc.name == "data loss without flag" {
						if p.Code != 0 || !strings.Contains(p.Stdout, "data loss: 1 statement") {
							t.Errorf("plan: exit %d, want 0 with the data-loss report", p.Code)
						}
					} else if p.Code != exitcode.Refused {
						t.Errorf("plan: exit %d, want %d", p.Code, exitcode.Refused)
					}
				})
			}
		}
	}
}

// TestDirtyProposesForce: after a failed down of vN golang-migrate records
// N-1 dirty; on PostgreSQL the schema is still vN and the refusal proposes
// `force N`.
func TestDirtyProposesForce(t *testing.T) {
	u := newDB(t, dbrollback.Postgres)
	dir := writeMigrations(t, dbrollback.ToolMigrate, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolMigrate)
	execSQL(t, u, "UPDATE schema_migrations SET version = 3, dirty = true")
	r := run(t, "db", "plan", "--steps", "1", "--database", u, "--migrations", dir)
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "force 4`") {
		t.Errorf("exit %d, want 2 and a proposal to force 4", r.Code)
	}
}

// TestNoConfirmationWithoutTTY: without --yes and without a terminal the
// undo is refused before anything happens.
func TestNoConfirmationWithoutTTY(t *testing.T) {
	u := newDB(t, dbrollback.SQLite)
	dir := writeMigrations(t, dbrollback.ToolGoose, fourMigrations())
	applyUp(t, u, dir, dbrollback.ToolGoose)
	r := run(t, "db", "undo", "--steps", "1", "--accept-data-loss", "--database", u, "--migrations", dir, "--backup-dir", t.TempDir())
	if r.Code != exitcode.Refused || !strings.Contains(r.Stderr, "--yes") {
		t.Errorf("exit %d, want 2 asking for --yes", r.Code)
	}
	if v := versionAfter(t, u, dir); v != 4 {
		t.Errorf("version %d, want 4", v)
	}
}
