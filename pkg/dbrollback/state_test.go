package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/pressly/goose/v3"

	"github.com/vibestack/rollback/pkg/outcome"
)

// migratedSQLite returns the URL of a SQLite database with migrations
// 1..3 of toolName in a directory, the first two applied by the tool's own
// library.
func migratedSQLite(t *testing.T, toolName string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for v := 1; v <= 3; v++ {
		up := fmt.Sprintf("CREATE TABLE t%d (id INTEGER);", v)
		down := fmt.Sprintf("DROP TABLE t%d;", v)
		files := map[string]string{fmt.Sprintf("%d_t%d.sql", v, v): "-- +goose Up\n" + up + "\n-- +goose Down\n" + down + "\n"}
		if toolName == ToolMigrate {
			files = map[string]string{fmt.Sprintf("%d_t%d.up.sql", v, v): up, fmt.Sprintf("%d_t%d.down.sql", v, v): down}
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	switch toolName {
	case ToolMigrate:
		src, err := iofs.New(os.DirFS(dir), ".")
		if err != nil {
			t.Fatal(err)
		}
		drv, err := msqlite.WithInstance(db, &msqlite.Config{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := migrate.NewWithInstance("iofs", src, "sqlite", drv)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Steps(2); err != nil {
			t.Fatal(err)
		}
	case ToolGoose:
		p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS(dir), goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(context.Background(), 2); err != nil {
			t.Fatal(err)
		}
	}
	return "sqlite://" + path, dir
}

func execSQLite(t *testing.T, url, q string) {
	t.Helper()
	db, err := OpenDB(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func versionsOf(ms []MigrationState) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return out
}

// TestReadStateAgreesWithGetStatus: read from the tracking table alone, the
// state has the version and dirty flag the tool's library reports with the
// migration files.
func TestReadStateAgreesWithGetStatus(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		tool    string
		applied []int64
	}{
		{ToolMigrate, []int64{2}}, // golang-migrate keeps the current version alone
		{ToolGoose, []int64{1, 2}},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			url, dir := migratedSQLite(t, tc.tool)
			st, err := ReadState(ctx, Options{DatabaseURL: url})
			if err != nil {
				t.Fatal(err)
			}
			full, err := GetStatus(ctx, Options{DatabaseURL: url, MigrationsDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if st.Tool != tc.tool || st.Version != 2 || st.Dirty || st.Version != full.Version || st.Tool != full.Tool {
				t.Errorf("ReadState = %s v%d dirty=%v, GetStatus = %s v%d", st.Tool, st.Version, st.Dirty, full.Tool, full.Version)
			}
			if got := fmt.Sprint(versionsOf(st.Applied)); got != fmt.Sprint(tc.applied) || len(st.Pending) != 0 {
				t.Errorf("applied %s pending %v, want applied %v and none pending", got, st.Pending, tc.applied)
			}
			if st.Database != full.Database || st.ServerVersion != full.ServerVersion {
				t.Errorf("database %q %q, GetStatus %q %q", st.Database, st.ServerVersion, full.Database, full.ServerVersion)
			}
			v, err := trackedVersion(ctx, mustParse(t, url), tc.tool)
			if err != nil || v != 2 {
				t.Errorf("trackedVersion = %d, %v; want 2", v, err)
			}
		})
	}
}

func TestReadStateDirtyAndReverted(t *testing.T) {
	ctx := context.Background()
	url, _ := migratedSQLite(t, ToolMigrate)
	execSQLite(t, url, "UPDATE schema_migrations SET dirty = 1")
	if st, err := ReadState(ctx, Options{DatabaseURL: url}); err != nil || !st.Dirty || st.Version != 2 {
		t.Errorf("dirty database: %+v, %v", st, err)
	}
	execSQLite(t, url, "DELETE FROM schema_migrations")
	if st, err := ReadState(ctx, Options{DatabaseURL: url}); err != nil || st.Version != 0 || len(st.Applied) != 0 {
		t.Errorf("nothing applied: %+v, %v", st, err)
	}

	// Old goose versions record a revert as a row with is_applied false.
	url, _ = migratedSQLite(t, ToolGoose)
	execSQLite(t, url, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, 0)")
	if st, err := ReadState(ctx, Options{DatabaseURL: url}); err != nil || st.Version != 1 || fmt.Sprint(versionsOf(st.Applied)) != "[1]" {
		t.Errorf("goose with 2 reverted: %+v, %v", st, err)
	}
}

func TestReadStateErrors(t *testing.T) {
	ctx := context.Background()
	plain := "sqlite://" + sqliteTarget(t, 0o600).Name
	migrated, _ := migratedSQLite(t, ToolMigrate)
	both, _ := migratedSQLite(t, ToolGoose)
	execSQLite(t, both, "CREATE TABLE schema_migrations (version bigint, dirty boolean)")
	for _, tc := range []struct {
		name    string
		opts    Options
		want    string
		refused bool
	}{
		{"no tracking table", Options{DatabaseURL: plain}, "no migration tracking table", false},
		{"forced tool without its table", Options{DatabaseURL: migrated, Tool: ToolGoose}, "no goose_db_version table of goose", false},
		{"unknown tool", Options{DatabaseURL: migrated, Tool: "flyway"}, "unknown migration tool", true},
		{"both tables", Options{DatabaseURL: both}, "choose with --tool", true},
		{"bad URL", Options{DatabaseURL: "oracle://x/y"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := ReadState(ctx, tc.opts)
			if err == nil {
				t.Fatalf("no error, state %+v", st)
			}
			if !strings.Contains(err.Error(), tc.want) || (outcome.KindOf(err) == outcome.Refused) != tc.refused {
				t.Errorf("error %q (refused %v), want %q (refused %v)", err, (outcome.KindOf(err) == outcome.Refused), tc.want, tc.refused)
			}
		})
	}
	if st, err := ReadState(ctx, Options{DatabaseURL: both, Tool: ToolGoose}); err != nil || st.Version != 2 {
		t.Errorf("both tables, --tool goose: %+v, %v", st, err)
	}
}

func mustParse(t *testing.T, url string) *Target {
	t.Helper()
	tg, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
