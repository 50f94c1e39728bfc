package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
)

func newDBUndoCmd(f *Factory) *cobra.Command {
	var d dbFlags
	var r dbRequestFlags
	var yes, acceptLoss bool
	var dir, backupVerified string
	var rec recordFlags
	cmd := &cobra.Command{
		Use:   "undo --steps N | --to VERSION",
		Short: "Back up and verify, then revert migrations under the tool's lock, then verify",
		Long: `Revert migrations the safe way:
  1. back up the database and read the backup back completely (pg_dump -Fc +
     pg_restore -f /dev/null; mysqldump + its completion trailer; VACUUM INTO +
     PRAGMA integrity_check); if that fails nothing else happens;
  2. plan: refuse missing or empty downs, a dirty database, fewer applied than
     asked; downs that destroy data need --accept-data-loss; confirm on a
     terminal unless --yes;
  3. revert under the migration tool's lock with a lock timeout;
  4. verify the version, the dirty flag and the applied migrations.
On failure it reports the exact state and the restore command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res *dbrollback.UndoResult
			step := rec.oneStep(f, cmd, "database", "db", "database", nil, passwordOf(d.databaseURL()))
			// What the plan refuses (bad input, a dirty database, missing or
			// data-destroying downs) and a missing terminal are refused before
			// anything is recorded.
			step.Check = func(ctx context.Context) error {
				p, err := dbrollback.MakePlan(ctx, d.options(), r.request(cmd))
				switch {
				case err != nil:
					return err
				case p.NoOp():
					return nil
				case p.DataLossRefusal(acceptLoss) != nil:
					return p.DataLossRefusal(acceptLoss)
				case !yes && !f.IO.InTTY:
					return exitcode.AsRefused(errDBNoTTY)
				}
				return nil
			}
			_, err := step.Run(cmd.Context(),
				func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
					var err error
					res, err = dbrollback.Undo(ctx, dbrollback.UndoOptions{
						Options:        d.options(),
						Request:        r.request(cmd),
						AcceptDataLoss: acceptLoss,
						BackupDir:      dbBackupDir(dir),
						BackupVerified: backupVerified,
						Confirm: dbConfirmer(f, yes, func(p *dbrollback.Plan) string {
							dbrollback.WritePlan(f.IO.ErrOut, p)
							return fmt.Sprintf("Back up %s, then revert %d migration(s) to version %d?", p.Status.Database, len(p.Steps), p.To)
						}),
						Observer: obs,
						Clock:    f.Clock,
					})
					out := lifecycle.StepOutcome{}
					if res != nil {
						out.Skipped = res.Skipped
						out.After = map[string]any{"version": res.Version, "dirty": res.Dirty, "verified": res.Verified}
						if res.Plan != nil {
							out.Before = map[string]any{"version": res.Plan.From}
							out.Detail = fmt.Sprintf("version %d -> %d", res.Plan.From, res.Version)
						}
						if res.Backup != nil {
							out.After.(map[string]any)["backupID"] = res.Backup.ID
						}
					}
					return out, err
				})
			if res != nil && (err == nil || res.Failure != nil) {
				if f.JSON() {
					if jerr := dbWriteJSON(f.IO.Out, res); jerr != nil {
						return jerr
					}
				} else {
					dbrollback.WriteUndo(f.IO.Out, res, dbBackupDir(dir))
				}
			}
			return err
		},
	}
	d.bind(cmd, true)
	r.bind(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.BoolVar(&acceptLoss, "accept-data-loss", false, "allow downs that destroy data (DROP TABLE, DROP COLUMN, TRUNCATE, ...)")
	fl.StringVar(&dir, "backup-dir", "", dbBackupDirUsage)
	fl.StringVar(&backupVerified, "backup-verified", "", "ID of an existing verified backup of this database at its current version, instead of taking one")
	rec.add(cmd)
	return cmd
}
