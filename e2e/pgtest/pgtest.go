// Package pgtest gives end-to-end tests databases on the real PostgreSQL
// test server that `make deps` (scripts/ci/install-deps.sh) installs and
// starts. ROLLBACK_E2E_DB_USER, ROLLBACK_E2E_DB_PASSWORD and
// ROLLBACK_E2E_PG_ADDR override the defaults of that script.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

// Env returns $key, or def when it is unset or empty.
func Env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Password returns the test role's password. No output of any test may
// contain it.
func Password() string { return Env("ROLLBACK_E2E_DB_PASSWORD", "e2e-Secret-9f3Kq") }

// User returns the test role's name.
func User() string { return Env("ROLLBACK_E2E_DB_USER", "rollback_e2e") }

// Addr returns host:port of the PostgreSQL test server.
func Addr() string { return Env("ROLLBACK_E2E_PG_ADDR", "127.0.0.1:5432") }

// ServerURL returns postgres://user:password@addr of the test server,
// without a database.
func ServerURL() string { return ServerURLAt(Addr()) }

// ServerURLAt returns postgres://user:password@addr with the test role's
// credentials, for a server at addr (e.g. one nobody listens on).
func ServerURLAt(addr string) string {
	return "postgres://" + url.UserPassword(User(), Password()).String() + "@" + addr
}

// URL returns the URL of database db on the test server.
func URL(db string) string { return ServerURL() + "/" + db }

// Unreachable fails the test when CI=true, else skips it, saying why the
// server named what cannot be used and how to start it.
func Unreachable(t testing.TB, what string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s test server not reachable (%v): run `make deps` (scripts/ci/install-deps.sh)", what, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// NewDatabase creates the empty database "rb_<prefix>_<random hex>" and
// returns its URL; the database is dropped when the test ends. It fails
// (CI=true) or skips the test when the server is not reachable.
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	admin := URL("postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		Unreachable(t, "PostgreSQL", err)
	}
	defer db.Close()
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := "rb_" + prefix + "_" + hex.EncodeToString(r[:])
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := dbrollback.OpenDB(context.Background(), admin)
		if err == nil {
			_, _ = db.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
			db.Close()
		}
	})
	return URL(name)
}

// EnsureDatabase creates database name, the database of dbURL, on that
// server when it does not exist yet (a benchmark's data set, kept between
// runs).
func EnsureDatabase(ctx context.Context, dbURL, name string) error {
	admin := strings.TrimSuffix(dbURL, "/"+name) + "/postgres"
	db, err := dbrollback.OpenDB(ctx, admin)
	if err != nil {
		return err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}
