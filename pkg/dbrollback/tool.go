package dbrollback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
)

// The supported migration tools.
const (
	ToolMigrate = "migrate"
	ToolGoose   = "goose"
)

// trackingTables maps each tool to the table in which it records versions.
var trackingTables = map[string]string{
	ToolMigrate: "schema_migrations",
	ToolGoose:   "goose_db_version",
}

// tool is the part of a migration tool this package drives. Implementations
// wrap the tool's own library.
type tool interface {
	// version returns the current version (0 when none) and the dirty flag.
	version(ctx context.Context) (int64, bool, error)
	// applied returns the applied versions, oldest first.
	applied(ctx context.Context, source []Migration) ([]int64, error)
	// revert reverts the n newest applied migrations, down to version to,
	// under the tool's lock.
	revert(ctx context.Context, n int, to int64) error
	close() error
}

// detectTool returns the tool whose tracking table exists in the database,
// or forced when set; with no tracking table it falls back to the layout of
// the migrations directory, and to no tool when dir is empty.
func detectTool(ctx context.Context, db *sql.DB, e Engine, forced, dir string) (string, bool, error) {
	found := map[string]bool{}
	for name, table := range trackingTables {
		ok, err := tableExists(ctx, db, e, table)
		if err != nil {
			return "", false, err
		}
		found[name] = ok
	}
	switch forced {
	case ToolMigrate, ToolGoose:
		return forced, found[forced], nil
	case "":
	default:
		return "", false, refusef("unknown migration tool %q: use --tool migrate or --tool goose", forced)
	}
	switch {
	case found[ToolMigrate] && found[ToolGoose]:
		return "", false, refusef("both schema_migrations (golang-migrate) and goose_db_version (goose) exist: choose with --tool migrate|goose")
	case found[ToolMigrate]:
		return ToolMigrate, true, nil
	case found[ToolGoose]:
		return ToolGoose, true, nil
	}
	if dir == "" {
		return "", false, nil
	}
	layout, err := detectLayout(dir)
	return layout, false, err
}

// toolVersion returns the version of the module implementing tool, as built
// into this binary.
func toolVersion(name string) string {
	mod := map[string]string{ToolMigrate: "github.com/golang-migrate/migrate/v4", ToolGoose: "github.com/pressly/goose/v3"}[name]
	fallback := map[string]string{ToolMigrate: "v4.20.1", ToolGoose: "v3.30.0"}[name]
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mod {
				return name + " " + d.Version
			}
		}
	}
	return name + " " + fallback
}

// errNoChange is returned by tools when there is nothing to revert.
var errNoChange = errors.New("no change")

func newTool(name string, db *sql.DB, t *Target, dir string) (tool, error) {
	switch name {
	case ToolMigrate:
		return newMigrateTool(db, t, dir)
	case ToolGoose:
		return newGooseTool(db, t, dir)
	}
	return nil, fmt.Errorf("unknown tool %q", name)
}
