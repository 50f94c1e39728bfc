//go:build e2e

package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	mmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/pressly/goose/v3"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// migration is one test migration: up and down SQL valid on all engines.
type migration struct {
	name, up, down string
	// noDown writes no down at all (golang-migrate: no .down.sql file;
	// goose: no "-- +goose Down" section).
	noDown bool
}

// fourMigrations are applied by most tests: two tables with rows, a column
// with values, a third table with rows. Undoing two drops the column
// "email" and the table "audit" (data loss) and keeps users and orders.
func fourMigrations() []migration {
	return []migration{
		{name: "create_users",
			up:   "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);\nINSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob'), (3, 'cyd');\n",
			down: "DROP TABLE users;\n"},
		{name: "create_orders",
			up:   "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);\nINSERT INTO orders (id, user_id, total) VALUES (1, 1, 10), (2, 1, 20), (3, 2, 30), (4, 3, 40);\n",
			down: "DROP TABLE orders;\n"},
		{name: "add_users_email",
			up:   "ALTER TABLE users ADD COLUMN email VARCHAR(200);\nUPDATE users SET email = 'x@example.com' WHERE id = 1;\n",
			down: "-- the values of email are lost\nALTER TABLE users DROP COLUMN email;\n"},
		{name: "create_audit",
			up:   "CREATE TABLE audit (id INTEGER PRIMARY KEY, note VARCHAR(100));\nINSERT INTO audit (id, note) VALUES (1, 'one'), (2, 'two');\n",
			down: "DROP TABLE audit;\n"},
	}
}

// writeMigrations writes ms in tool's layout into a new directory.
func writeMigrations(t *testing.T, tool string, ms []migration) string {
	t.Helper()
	dir := t.TempDir()
	for i, m := range ms {
		v := i + 1
		var files map[string]string
		switch tool {
		case dbrollback.ToolMigrate:
			files = map[string]string{fmt.Sprintf("%d_%s.up.sql", v, m.name): m.up}
			if !m.noDown {
				files[fmt.Sprintf("%d_%s.down.sql", v, m.name)] = m.down
			}
		case dbrollback.ToolGoose:
			body := "-- +goose Up\n" + m.up
			if !m.noDown {
				body += "\n-- +goose Down\n" + m.down
			}
			files = map[string]string{fmt.Sprintf("%05d_%s.sql", v, m.name): body}
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// applyUp applies all migrations in dir with tool's library.
func applyUp(t *testing.T, u, dir, tool string) {
	t.Helper()
	ctx := context.Background()
	db, err := dbrollback.OpenDB(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tg, err := dbrollback.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	switch tool {
	case dbrollback.ToolMigrate:
		src, err := iofs.New(os.DirFS(dir), ".")
		if err != nil {
			t.Fatal(err)
		}
		var drv database.Driver
		switch tg.Engine {
		case dbrollback.Postgres:
			drv, err = mpgx.WithInstance(db, &mpgx.Config{})
		case dbrollback.MySQL:
			drv, err = mmysql.WithInstance(db, &mmysql.Config{})
		case dbrollback.SQLite:
			drv, err = msqlite.WithInstance(db, &msqlite.Config{})
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := migrate.NewWithInstance("iofs", src, string(tg.Engine), drv)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.Up(); err != nil {
			t.Fatalf("migrate up: %v", err)
		}
	case dbrollback.ToolGoose:
		dialect := map[dbrollback.Engine]goose.Dialect{dbrollback.Postgres: goose.DialectPostgres, dbrollback.MySQL: goose.DialectMySQL, dbrollback.SQLite: goose.DialectSQLite3}[tg.Engine]
		p, err := goose.NewProvider(dialect, db, os.DirFS(dir), goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatalf("goose up: %v", err)
		}
	}
}

// snapshot is what tests compare before and after: schema and row counts.
type snapshot struct {
	schema dbrollback.Schema
	counts map[string]int64
}

func takeSnapshot(t *testing.T, u string) snapshot {
	t.Helper()
	ctx := context.Background()
	s, err := dbrollback.ReadSchema(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dbrollback.RowCounts(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{schema: s, counts: c}
}
