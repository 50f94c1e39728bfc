package command

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
)

// newDBCmd returns the "db" command group.
func newDBCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Revert database migrations: verified backup first, then N steps back, then verify",
		Long: `Revert schema migrations of PostgreSQL, MySQL/MariaDB or SQLite databases
managed by golang-migrate or goose. Every undo takes a backup first and reads it
back completely; if that fails nothing else happens.

The database comes from --database or $DATABASE_URL (postgres://, mysql://,
sqlite://path), the migrations from --migrations or $MIGRATIONS_DIR.
Passwords are never printed.`,
	}
	cmd.AddCommand(newDBStatusCmd(f), newDBPlanCmd(f), newDBUndoCmd(f), newDBRestoreCmd(f), newDBBackupsCmd(f))
	return cmd
}

// dbFlags are the flags every db subcommand shares.
type dbFlags struct {
	database    string
	migrations  string
	tool        string
	lockTimeout time.Duration
}

func (d *dbFlags) bind(cmd *cobra.Command, migrations bool) {
	fl := cmd.Flags()
	// Defaults are read from the environment when the command runs, never
	// shown in --help: $DATABASE_URL carries a password.
	fl.StringVar(&d.database, "database", "", "database URL: postgres://, mysql:// or sqlite://path (default $DATABASE_URL)")
	if migrations {
		fl.StringVar(&d.migrations, "migrations", "", "directory of the migration files (default $MIGRATIONS_DIR)")
		fl.StringVar(&d.tool, "tool", "", "migration tool: migrate or goose (default: detected from the tracking table)")
	}
	fl.DurationVar(&d.lockTimeout, "lock-timeout", 10*time.Second, "longest wait for any database lock")
}

func (d *dbFlags) options() dbrollback.Options {
	return dbrollback.Options{DatabaseURL: d.databaseURL(), MigrationsDir: dbOrEnv(d.migrations, "MIGRATIONS_DIR"), Tool: d.tool, LockTimeout: d.lockTimeout}
}

// databaseURL returns --database, or $DATABASE_URL when it is not given.
func (d *dbFlags) databaseURL() string { return dbOrEnv(d.database, "DATABASE_URL") }

func dbOrEnv(v, key string) string {
	if v != "" {
		return v
	}
	return os.Getenv(key)
}

// dbRequestFlags bind --steps and --to.
type dbRequestFlags struct {
	steps int
	to    int64
}

func (r *dbRequestFlags) bind(cmd *cobra.Command) {
	cmd.Flags().IntVar(&r.steps, "steps", 0, "number of migrations to revert")
	cmd.Flags().Int64Var(&r.to, "to", 0, "version to go back to (0 reverts everything)")
}

func (r *dbRequestFlags) request(cmd *cobra.Command) dbrollback.Request {
	return dbrollback.Request{Steps: r.steps, To: r.to, HasTo: cmd.Flags().Changed("to")}
}

// dbBackupDir returns --backup-dir, else $ROLLBACK_BACKUP_DIR, else the default.
func dbBackupDir(flag string) string {
	if d := dbOrEnv(flag, "ROLLBACK_BACKUP_DIR"); d != "" {
		return d
	}
	return dbrollback.DefaultBackupDir
}

const dbBackupDirUsage = "directory of the backups (default $ROLLBACK_BACKUP_DIR or " + dbrollback.DefaultBackupDir + ")"

// dbConfirmer returns nil when --yes was given, a prompt on a terminal, and a
// refusal otherwise.
func dbConfirmer[T any](f *Factory, yes bool, question func(T) string) func(T) (bool, error) {
	if yes {
		return nil
	}
	return func(v T) (bool, error) {
		if !f.IO.InTTY {
			return false, exitcode.AsRefused(errDBNoTTY)
		}
		return f.IO.Confirm(question(v))
	}
}

// errDBNoTTY refuses a change that needs confirmation when nobody can answer.
var errDBNoTTY = errors.New("confirmation needed but stdin is not a terminal: pass --yes; nothing was changed")

// dbWriteJSON writes v as one indented JSON object.
func dbWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
