package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Options name the database and the migrations; every operation takes them.
type Options struct {
	// DatabaseURL is a postgres://, mysql:// or sqlite:// URL.
	DatabaseURL string
	// MigrationsDir holds the migration files that were applied.
	MigrationsDir string
	// Tool forces "migrate" or "goose"; empty detects it from the tracking table.
	Tool string
	// LockTimeout bounds every wait for a lock (default 10s).
	LockTimeout time.Duration
}

// MigrationState is one migration in a status report.
type MigrationState struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// HasDown reports whether a non-empty down exists.
	HasDown bool `json:"hasDown"`
}

// Status is the state of a database's migrations.
type Status struct {
	Database      string           `json:"database"`
	Engine        Engine           `json:"engine"`
	ServerVersion string           `json:"serverVersion"`
	Tool          string           `json:"tool"`
	ToolVersion   string           `json:"toolVersion"`
	Version       int64            `json:"version"`
	Dirty         bool             `json:"dirty"`
	Applied       []MigrationState `json:"applied"`
	Pending       []MigrationState `json:"pending"`
}

// session is an open database with its migrations read.
type session struct {
	opts    Options
	t       *Target
	db      *sql.DB
	tool    string
	tracked bool
	source  []Migration
}

func openSession(ctx context.Context, opts Options) (*session, error) {
	t, err := ParseURL(opts.DatabaseURL)
	if err != nil {
		return nil, refuse(err)
	}
	if opts.MigrationsDir == "" {
		return nil, refusef("no migrations directory: pass --migrations or set MIGRATIONS_DIR")
	}
	db, err := open(ctx, t, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	s := &session{opts: opts, t: t, db: db}
	s.tool, s.tracked, err = detectTool(ctx, db, t.Engine, opts.Tool, opts.MigrationsDir)
	if err == nil {
		s.source, err = readMigrations(opts.MigrationsDir, s.tool)
	}
	if err != nil {
		db.Close()
		return nil, t.redactErr(err)
	}
	return s, nil
}

func (s *session) close() { s.db.Close() }

// withTool runs fn with the migration tool open on its own connection pool
// (golang-migrate closes the pool it is given).
func (s *session) withTool(ctx context.Context, fn func(tool) error) error {
	db, err := open(ctx, s.t, s.opts.LockTimeout)
	if err != nil {
		return err
	}
	defer db.Close()
	tl, err := newTool(s.tool, db, s.t, s.opts.MigrationsDir)
	if err != nil {
		return err
	}
	defer tl.close()
	return fn(tl)
}

// state reads the current version, the dirty flag and the applied versions.
func (s *session) state(ctx context.Context) (int64, bool, []int64, error) {
	if !s.tracked {
		return 0, false, nil, nil
	}
	var v int64
	var dirty bool
	var applied []int64
	err := s.withTool(ctx, func(tl tool) error {
		var err error
		if v, dirty, err = tl.version(ctx); err != nil {
			return err
		}
		applied, err = tl.applied(ctx, s.source)
		return err
	})
	return v, dirty, applied, err
}

func (s *session) status(ctx context.Context) (*Status, error) {
	sv, err := serverVersion(ctx, s.db, s.t.Engine)
	if err != nil {
		return nil, err
	}
	v, dirty, applied, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{
		Database: s.t.String(), Engine: s.t.Engine, ServerVersion: sv,
		Tool: s.tool, ToolVersion: toolVersion(s.tool),
		Version: v, Dirty: dirty, Applied: []MigrationState{}, Pending: []MigrationState{},
	}
	isApplied := map[int64]bool{}
	for _, a := range applied {
		isApplied[a] = true
	}
	for _, m := range s.source {
		ms := MigrationState{Version: m.Version, Name: m.Name, HasDown: m.HasDown}
		if isApplied[m.Version] {
			st.Applied = append(st.Applied, ms)
		} else {
			st.Pending = append(st.Pending, ms)
		}
	}
	return st, nil
}

// GetStatus reports the migration state of the database: the tool, the
// current version, the dirty flag, and the applied and pending migrations
// with whether each has a non-empty down.
func GetStatus(ctx context.Context, opts Options) (*Status, error) {
	s, err := openSession(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer s.close()
	st, err := s.status(ctx)
	if err != nil {
		return nil, s.t.redactErr(fmt.Errorf("status of %s: %w", s.t, err))
	}
	return st, nil
}
