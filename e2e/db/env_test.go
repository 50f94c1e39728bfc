//go:build e2e

// Package db_test runs the database rollback end to end against real
// PostgreSQL and MariaDB servers (installed and started by `make deps`,
// scripts/ci/install-deps.sh) and SQLite in process.
package db_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/e2e/clitest"
	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

func TestMain(m *testing.M) { os.Exit(clitest.Main(m.Run)) }

// password is the test role's password (scripts/ci/install-deps.sh). No
// output of any test may contain it.
var password = pgtest.Password()

// serverURL returns the admin URL of engine's test server (database part
// left for newDB to fill in).
func serverURL(e dbrollback.Engine) string {
	switch e {
	case dbrollback.Postgres:
		return pgtest.ServerURL()
	case dbrollback.MySQL:
		user := url.UserPassword(pgtest.User(), password).String()
		return "mysql://" + user + "@" + pgtest.Env("ROLLBACK_E2E_MYSQL_ADDR", "127.0.0.1:3306")
	}
	return ""
}

// requireServer fails (CI=true) or skips the test when engine's server is
// not reachable.
func requireServer(t *testing.T, e dbrollback.Engine) {
	t.Helper()
	if e == dbrollback.SQLite {
		return
	}
	admin := serverURL(e) + "/" + map[dbrollback.Engine]string{dbrollback.Postgres: "postgres", dbrollback.MySQL: "mysql"}[e]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		pgtest.Unreachable(t, string(e), err)
	}
	db.Close()
}

// newDB creates a fresh, empty database for the test and returns its URL.
func newDB(t *testing.T, e dbrollback.Engine) string {
	t.Helper()
	requireServer(t, e)
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := fmt.Sprintf("rb_%s_%s", strings.ToLower(strings.NewReplacer("/", "_", "-", "_", "+", "_", "=", "_").Replace(t.Name())), hex.EncodeToString(r[:]))
	if len(name) > 60 {
		name = name[len(name)-60:]
		name = "rb" + name[2:]
	}
	if e == dbrollback.SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), name+".db")
	}
	admin := serverURL(e) + "/" + map[dbrollback.Engine]string{dbrollback.Postgres: "postgres", dbrollback.MySQL: "mysql"}[e]
	ctx := context.Background()
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := func(s string) string {
		if e == dbrollback.MySQL {
			return "`" + s + "`"
		}
		return `"` + s + `"`
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+q(name)); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := dbrollback.OpenDB(ctx, admin)
		if err != nil {
			return
		}
		defer db.Close()
		drop := "DROP DATABASE IF EXISTS " + q(name)
		if e == dbrollback.Postgres {
			drop += " WITH (FORCE)"
		}
		_, _ = db.ExecContext(ctx, drop)
	})
	return serverURL(e) + "/" + name
}

// exec runs statements on the database at u.
func execSQL(t *testing.T, u string, stmts ...string) {
	t.Helper()
	db, err := dbrollback.OpenDB(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func queryInt(t *testing.T, u, q string) int64 {
	t.Helper()
	db, err := dbrollback.OpenDB(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n sql.NullInt64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// engines are the database engines every scenario runs on.
var engines = []dbrollback.Engine{dbrollback.Postgres, dbrollback.MySQL, dbrollback.SQLite}

// tools are the migration tools every scenario runs with.
var tools = []string{dbrollback.ToolMigrate, dbrollback.ToolGoose}
