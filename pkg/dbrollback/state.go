package dbrollback

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// ReadState reads the migration state of the database from the migration
// tool's tracking table alone, without the migration files: what a restore
// is about to overwrite. opts.MigrationsDir is not read and may be empty.
// The tool is opts.Tool, else the one whose tracking table exists
// (schema_migrations of golang-migrate, goose_db_version of goose). The
// Status has the version and the dirty flag; Applied lists the versions the
// table records, without names or downs (goose keeps every applied version,
// golang-migrate the current one alone); Pending is empty. A database with
// no tracking table is an error: its migration state cannot be told.
func ReadState(ctx context.Context, opts Options) (*Status, error) {
	t, err := ParseURL(opts.DatabaseURL)
	if err != nil {
		return nil, refuse(err)
	}
	db, err := open(ctx, t, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st, err := readState(ctx, db, t, opts.Tool)
	if err != nil {
		return nil, t.redactErr(fmt.Errorf("migration state of %s: %w", t, err))
	}
	return st, nil
}

func readState(ctx context.Context, db *sql.DB, t *Target, forced string) (*Status, error) {
	sv, err := serverVersion(ctx, db, t.Engine)
	if err != nil {
		return nil, err
	}
	name, tracked, err := detectTool(ctx, db, t.Engine, forced, "")
	if err != nil {
		return nil, err
	}
	if !tracked {
		if name != "" {
			return nil, fmt.Errorf("no %s table of %s: nothing records which migrations were applied", trackingTables[name], name)
		}
		return nil, fmt.Errorf("no migration tracking table (schema_migrations of golang-migrate, goose_db_version of goose): nothing records which migrations were applied")
	}
	tr, err := readTracking(ctx, db, name)
	if err != nil {
		return nil, err
	}
	st := &Status{
		Database: t.String(), Engine: t.Engine, ServerVersion: sv,
		Tool: name, ToolVersion: toolVersion(name),
		Version: tr.version, Dirty: tr.dirty, Applied: []MigrationState{}, Pending: []MigrationState{},
	}
	for _, v := range tr.applied {
		st.Applied = append(st.Applied, MigrationState{Version: v})
	}
	return st, nil
}

// tracking is what a tool's tracking table records.
type tracking struct {
	version int64
	dirty   bool
	// applied are the recorded versions, oldest first.
	applied []int64
}

// readTracking reads the tracking table of tool: the one query path for
// every read of a version without the tool's library (the state before a
// restore, the version after it).
func readTracking(ctx context.Context, db *sql.DB, toolName string) (tracking, error) {
	var tr tracking
	switch toolName {
	case ToolMigrate:
		// golang-migrate keeps one row, the current version; none when no
		// migration is applied.
		err := db.QueryRowContext(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&tr.version, &tr.dirty)
		switch {
		case err == sql.ErrNoRows:
			return tracking{}, nil
		case err != nil:
			return tr, fmt.Errorf("read schema_migrations: %w", err)
		}
		if tr.version < 0 {
			tr.version = 0
		}
		if tr.version > 0 {
			tr.applied = []int64{tr.version}
		}
		return tr, nil
	case ToolGoose:
		// goose appends a row per migration applied (and, in old versions,
		// per one reverted); the newest row of a version says its state.
		rows, err := db.QueryContext(ctx, "SELECT version_id, is_applied FROM goose_db_version ORDER BY id")
		if err != nil {
			return tr, fmt.Errorf("read goose_db_version: %w", err)
		}
		defer rows.Close()
		applied := map[int64]bool{}
		for rows.Next() {
			var v int64
			var ok bool
			if err := rows.Scan(&v, &ok); err != nil {
				return tr, fmt.Errorf("read goose_db_version: %w", err)
			}
			applied[v] = ok
		}
		if err := rows.Err(); err != nil {
			return tr, fmt.Errorf("read goose_db_version: %w", err)
		}
		for v, ok := range applied {
			if ok && v > 0 {
				tr.applied = append(tr.applied, v)
				tr.version = max(tr.version, v)
			}
		}
		sort.Slice(tr.applied, func(i, j int) bool { return tr.applied[i] < tr.applied[j] })
		return tr, nil
	}
	return tr, fmt.Errorf("unknown migration tool %q", toolName)
}
