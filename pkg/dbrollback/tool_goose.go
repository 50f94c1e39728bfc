package dbrollback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// gooseTool drives goose through its Provider API.
type gooseTool struct {
	p *goose.Provider
}

func newGooseTool(db *sql.DB, t *Target, dir string) (*gooseTool, error) {
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	}
	var dialect goose.Dialect
	switch t.Engine {
	case Postgres:
		dialect = goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 10))
		if err != nil {
			return nil, fmt.Errorf("goose lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	case MySQL:
		dialect = goose.DialectMySQL
		opts = append(opts, goose.WithSessionLocker(mysqlSessionLocker{name: "goose", timeoutSeconds: 10}))
	case SQLite:
		// SQLite has no server-side lock; undo holds a file lock beside the database.
		dialect = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(dialect, db, os.DirFS(dir), opts...)
	if err != nil {
		return nil, fmt.Errorf("open goose: %w", err)
	}
	return &gooseTool{p: p}, nil
}

func (g *gooseTool) version(ctx context.Context) (int64, bool, error) {
	v, err := g.p.GetDBVersion(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("read goose version: %w", err)
	}
	return v, false, nil
}

func (g *gooseTool) applied(ctx context.Context, _ []Migration) ([]int64, error) {
	st, err := g.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("read goose status: %w", err)
	}
	var out []int64
	for _, s := range st {
		if s.State == goose.StateApplied {
			out = append(out, s.Source.Version)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// revert runs one DownTo under the session locker, so that no other goose
// run can slip in between the steps.
func (g *gooseTool) revert(ctx context.Context, _ int, to int64) error {
	_, err := g.p.DownTo(ctx, to)
	var pe *goose.PartialError
	if errors.As(err, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
		return fmt.Errorf("down of version %d failed (%d reverted before it): %w", pe.Failed.Source.Version, len(pe.Applied), pe.Err)
	}
	return err
}

func (g *gooseTool) close() error { return nil }

// mysqlSessionLocker is a goose SessionLocker for MySQL/MariaDB based on
// GET_LOCK, which goose lacks: it waits at most timeoutSeconds.
type mysqlSessionLocker struct {
	name           string
	timeoutSeconds int
}

func (l mysqlSessionLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(CONCAT(?, ':', LEFT(SHA1(DATABASE()), 40)), ?)", l.name, l.timeoutSeconds).Scan(&got); err != nil {
		return fmt.Errorf("take goose lock: %w", err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("take goose lock: another goose run holds it (waited %ds)", l.timeoutSeconds)
	}
	return nil
}

func (l mysqlSessionLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK(CONCAT(?, ':', LEFT(SHA1(DATABASE()), 40)))", l.name)
	return err
}
