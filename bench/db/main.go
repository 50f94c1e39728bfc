// Command db benchmarks the backup+verify phase of `rollback db undo --steps 1`
// against a raw `pg_dump -Fc` of the same PostgreSQL database (2 M rows,
// about 0.5 GB), alternating the two, prints medians and their ratio and
// rewrites the "Database" section of docs/benchmarks.md.
//
//	make bench-db    # or: go run ./bench/db [-rows N] [-runs N] [-out FILE]
//
// The database comes from $BENCH_DATABASE_URL (default: the test role that
// scripts/ci/install-deps.sh creates, database rollback_bench, created and
// filled on first use).
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/golang-migrate/migrate/v4"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/vibestack/rollback/bench/benchcmd"
	"github.com/vibestack/rollback/bench/mdsection"
	"github.com/vibestack/rollback/e2e/pgtest"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

func main() {
	rows := flag.Int("rows", 2_000_000, "rows in the benchmark table")
	runs := flag.Int("runs", 5, "runs of each side")
	out := flag.String("out", "docs/benchmarks.md", "markdown file whose \"Database\" section is rewritten")
	flag.Parse()
	if err := run(context.Background(), *rows, *runs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench-db:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, rows, runs int, out string) error {
	dbURL := os.Getenv("BENCH_DATABASE_URL")
	if dbURL == "" {
		user := url.UserPassword(benchcmd.EnvOr("ROLLBACK_E2E_DB_USER", "rollback_e2e"), benchcmd.EnvOr("ROLLBACK_E2E_DB_PASSWORD", "e2e-Secret-9f3Kq"))
		dbURL = "postgres://" + user.String() + "@127.0.0.1:5432/rollback_bench"
	}
	t, err := dbrollback.ParseURL(dbURL)
	if err != nil {
		return err
	}
	if err := pgtest.EnsureDatabase(ctx, dbURL, t.Name); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "bench-db-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	migrations := filepath.Join(work, "migrations")
	if err := writeMigrations(migrations); err != nil {
		return err
	}
	dbSize, err := prepare(ctx, dbURL, migrations, rows)
	if err != nil {
		return err
	}
	started := time.Now()

	var raw, undo, undoTotal []float64
	var size, backupSize int64
	for i := range runs {
		// Alternate which side goes first, so neither always runs on a
		// warmer cache or a quieter machine.
		sides := []func() error{
			func() error {
				d, n, err := rawDump(ctx, dbURL, filepath.Join(work, "raw.dump"))
				raw, size = append(raw, d), n
				return err
			},
			func() error {
				d, total, n, err := undoOnce(ctx, dbURL, migrations, filepath.Join(work, "backups"))
				undo, undoTotal, backupSize = append(undo, d), append(undoTotal, total), n
				return err
			},
		}
		if i%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			if err := side(); err != nil {
				return err
			}
		}
		fmt.Printf("run %d: pg_dump -Fc %.2fs, undo backup+verify %.2fs (whole undo %.2fs)\n", i+1, raw[i], undo[i], undoTotal[i])
	}
	r, b := benchcmd.Median(raw), benchcmd.Median(undo)
	fmt.Printf("\nrows: %d, dump size: %.1f MB, runs: %d each, alternating\n", rows, float64(size)/1e6, runs)
	fmt.Printf("median pg_dump -Fc:                 %.2fs\n", r)
	fmt.Printf("median undo backup+verify phase:    %.2fs\n", b)
	fmt.Printf("median whole undo --steps 1:        %.2fs\n", benchcmd.Median(undoTotal))
	fmt.Printf("ratio backup+verify / pg_dump:      %.2fx (goal <= 1.25x)\n", b/r)
	res := results{started: started, finished: time.Now(), rows: rows, dbSize: dbSize, dumpSize: size, backupSize: backupSize,
		raw: raw, undo: undo, undoTotal: undoTotal}
	return mdsection.Replace(out, sectionTitle, res.markdown())
}

// rawDump times a plain `pg_dump -Fc > path` (password in PGPASSWORD).
func rawDump(ctx context.Context, dbURL, path string) (float64, int64, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return 0, 0, err
	}
	pw, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	cmd := exec.CommandContext(ctx, "pg_dump", "-Fc", "-d", u.String())
	cmd.Env = append(os.Environ(), "PGPASSWORD="+pw)
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("pg_dump: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, err
	}
	d := time.Since(start).Seconds()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	return d, st.Size(), nil
}

// undoOnce runs `rollback db undo --steps 1` through the library and
// returns its backup+verify phase, its whole duration and the backup's
// size, then re-applies the reverted migration.
func undoOnce(ctx context.Context, dbURL, migrations, backups string) (float64, float64, int64, error) {
	defer os.RemoveAll(backups)
	start := time.Now()
	res, err := dbrollback.Undo(ctx, dbrollback.UndoOptions{
		Options:   dbrollback.Options{DatabaseURL: dbURL, MigrationsDir: migrations},
		Request:   dbrollback.Request{Steps: 1},
		BackupDir: backups,
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("undo: %w", err)
	}
	total := time.Since(start).Seconds()
	return res.Backup.DurationSeconds, total, res.Backup.Size, up(dbURL, migrations)
}

func writeMigrations(dir string) error {
	files := map[string]string{
		"1_events.up.sql":   "CREATE TABLE IF NOT EXISTS events (id bigint PRIMARY KEY, user_id int NOT NULL, kind text NOT NULL, payload text NOT NULL, created timestamptz NOT NULL);\n",
		"1_events.down.sql": "DROP TABLE events;\n",
		"2_view.up.sql":     "CREATE VIEW recent_events AS SELECT * FROM events WHERE created > now() - interval '1 day';\n",
		"2_view.down.sql":   "DROP VIEW recent_events;\n",
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// prepare applies the migrations, fills the table to rows rows and
// returns the database's size in bytes.
func prepare(ctx context.Context, dbURL, migrations string, rows int) (int64, error) {
	if err := up(dbURL, migrations); err != nil {
		return 0, err
	}
	db, err := dbrollback.OpenDB(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
		return 0, err
	}
	if n != rows {
		fmt.Printf("filling events with %d rows...\n", rows)
		if _, err := db.ExecContext(ctx, "SET lock_timeout = 0; TRUNCATE events"); err != nil {
			return 0, err
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO events
			SELECT g, g % 10000, 'kind-' || (g % 17), md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) || md5((g * 57)::text), now() - (g || ' seconds')::interval
			FROM generate_series(1, $1) g`, rows); err != nil {
			return 0, fmt.Errorf("fill events: %w", err)
		}
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE events"); err != nil {
			return 0, err
		}
	}
	var size int64
	if err := db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
		return 0, err
	}
	fmt.Printf("database size: %.1f MB\n", float64(size)/1e6)
	return size, nil
}

func up(dbURL, migrations string) error {
	db, err := dbrollback.OpenDB(context.Background(), dbURL)
	if err != nil {
		return err
	}
	src, err := iofs.New(os.DirFS(migrations), ".")
	if err != nil {
		return err
	}
	drv, err := mpgx.WithInstance(db, &mpgx.Config{})
	if err != nil {
		return err
	}
	m, err := migrate.NewWithInstance("iofs", src, "postgres", drv)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil && err != migrate.ErrNoChange {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}
