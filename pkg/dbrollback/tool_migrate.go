package dbrollback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	mmysql "github.com/golang-migrate/migrate/v4/database/mysql"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// migrateTool drives golang-migrate through its library.
type migrateTool struct {
	m *migrate.Migrate
}

func newMigrateTool(db *sql.DB, t *Target, dir string) (*migrateTool, error) {
	src, err := iofs.New(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("open migrations %s: %w", dir, err)
	}
	var drv database.Driver
	switch t.Engine {
	case Postgres:
		drv, err = mpgx.WithInstance(db, &mpgx.Config{})
	case MySQL:
		drv, err = mmysql.WithInstance(db, &mmysql.Config{})
	case SQLite:
		drv, err = msqlite.WithInstance(db, &msqlite.Config{})
	}
	if err != nil {
		return nil, fmt.Errorf("open golang-migrate driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, string(t.Engine), drv)
	if err != nil {
		return nil, fmt.Errorf("open golang-migrate: %w", err)
	}
	return &migrateTool{m: m}, nil
}

func (g *migrateTool) version(context.Context) (int64, bool, error) {
	v, dirty, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read golang-migrate version: %w", err)
	}
	return int64(v), dirty, nil
}

// applied returns the source's versions up to the current one: golang-migrate
// keeps only the current version, everything before it counts as applied.
func (g *migrateTool) applied(ctx context.Context, source []Migration) ([]int64, error) {
	cur, _, err := g.version(ctx)
	if err != nil {
		return nil, err
	}
	var out []int64
	found := cur == 0
	for _, m := range source {
		if m.Version <= cur {
			out = append(out, m.Version)
		}
		if m.Version == cur {
			found = true
		}
	}
	if !found {
		return nil, refusef("the database is at version %d, which is not in the migrations directory: point --migrations at the directory that was applied", cur)
	}
	return out, nil
}

// revert steps n migrations down; golang-migrate takes its lock around it.
// The caller has counted the applied migrations, so ErrShortLimit (returned
// after reverting what it could) does not happen.
func (g *migrateTool) revert(_ context.Context, n int, _ int64) error {
	err := g.m.Steps(-n)
	if errors.Is(err, migrate.ErrNoChange) {
		return errNoChange
	}
	return err
}

// close releases the source; the *sql.DB belongs to the caller, but the
// driver's Close closes it too, so the caller must not reuse it.
func (g *migrateTool) close() error {
	srcErr, _ := g.m.Close()
	return srcErr
}
