package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// open connects to the database of t. lockTimeout bounds every wait for a
// lock in the session (PostgreSQL lock_timeout, MySQL lock_wait_timeout and
// innodb_lock_wait_timeout, SQLite busy_timeout) so a rollback never queues
// forever behind traffic.
func open(ctx context.Context, t *Target, lockTimeout time.Duration) (*sql.DB, error) {
	if lockTimeout <= 0 {
		lockTimeout = 10 * time.Second
	}
	var db *sql.DB
	var err error
	switch t.Engine {
	case Postgres:
		db, err = sql.Open("pgx", t.pgURL(map[string]string{
			"lock_timeout":     strconv.FormatInt(lockTimeout.Milliseconds(), 10),
			"application_name": "rollback-db",
		}))
	case MySQL:
		secs := strconv.Itoa(max(1, int(lockTimeout.Seconds())))
		db, err = sql.Open("mysql", t.mysqlDSN(map[string]string{
			"lock_wait_timeout":        secs,
			"innodb_lock_wait_timeout": secs,
		}))
	case SQLite:
		db, err = sql.Open("sqlite", "file:"+t.Name+"?_pragma=busy_timeout("+strconv.FormatInt(lockTimeout.Milliseconds(), 10)+")&_pragma=foreign_keys(1)")
		if err == nil {
			db.SetMaxOpenConns(1)
		}
	default:
		return nil, fmt.Errorf("unsupported engine %q", t.Engine)
	}
	if err != nil {
		return nil, t.redactErr(fmt.Errorf("open %s: %w", t, err))
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, t.redactErr(fmt.Errorf("connect to %s: %w", t, err))
	}
	return db, nil
}

// serverVersion returns the server's version string.
func serverVersion(ctx context.Context, db *sql.DB, e Engine) (string, error) {
	q := map[Engine]string{
		Postgres: "SHOW server_version",
		MySQL:    "SELECT VERSION()",
		SQLite:   "SELECT 'SQLite ' || sqlite_version()",
	}[e]
	var v string
	if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
		return "", fmt.Errorf("read server version: %w", err)
	}
	if e == Postgres {
		v = "PostgreSQL " + v
	}
	return v, nil
}

// tableExists reports whether the named table exists in the current
// database (PostgreSQL: on the search path).
func tableExists(ctx context.Context, db *sql.DB, e Engine, name string) (bool, error) {
	var q string
	switch e {
	case Postgres:
		q = "SELECT to_regclass($1) IS NOT NULL"
	case MySQL:
		q = "SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?"
	case SQLite:
		q = "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	var ok bool
	if err := db.QueryRowContext(ctx, q, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return ok, nil
}

// OpenDB connects to the database at rawURL with the same drivers and
// session settings as the rollback itself (tests and benchmarks use it).
func OpenDB(ctx context.Context, rawURL string) (*sql.DB, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return open(ctx, t, 0)
}
