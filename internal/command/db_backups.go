package command

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
)

func newDBBackupsCmd(f *Factory) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "backups",
		Short: "List the backups in the backup directory with their metadata",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			backupDir := dbBackupDir(dir)
			list, err := dbrollback.ListBackups(backupDir)
			if err != nil {
				return err
			}
			if f.JSON() {
				if list == nil {
					list = []dbrollback.Backup{}
				}
				return dbWriteJSON(f.IO.Out, map[string]any{"backupDir": backupDir, "backups": list})
			}
			return dbrollback.WriteBackups(f.IO.Out, backupDir, list)
		},
	}
	cmd.Flags().StringVar(&dir, "backup-dir", "", dbBackupDirUsage)
	return cmd
}

func newDBRestoreCmd(f *Factory) *cobra.Command {
	var d dbFlags
	var yes bool
	var dir string
	var rec recordFlags
	cmd := &cobra.Command{
		Use:   "restore BACKUP_ID",
		Short: "Restore a backup this tool made (checked by sha256 and a full read-back first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var res *dbrollback.RestoreResult
			// An unknown backup is refused before anything is recorded; a
			// known one is kept in the evidence with the state it overwrites.
			b, err := dbrollback.LoadBackup(dbBackupDir(dir), args[0])
			if err != nil {
				return err
			}
			step := rec.oneStep(f, cmd, "database", "db", "database", nil, passwordOf(d.databaseURL()))
			step.Evidence = []evidence.Source{evidence.Database{Options: d.options(), Restore: b}}
			_, err = step.Run(cmd.Context(),
				func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
					var err error
					res, err = dbrollback.Restore(ctx, dbrollback.RestoreOptions{
						DatabaseURL: d.databaseURL(),
						BackupDir:   dbBackupDir(dir),
						ID:          args[0],
						Confirm: dbConfirmer(f, yes, func(b *dbrollback.Backup) string {
							return fmt.Sprintf("Replace the contents of the database with backup %s (%s version %d, taken %s)?", b.ID, b.MigrationTool, b.MigrationVersion, b.Created.Format("2006-01-02 15:04:05Z"))
						}),
						Observer:    obs,
						LockTimeout: d.lockTimeout,
					})
					if res == nil {
						return lifecycle.StepOutcome{}, err
					}
					out := lifecycle.StepOutcome{After: map[string]any{"backupID": res.Backup.ID, "version": res.Version},
						Detail: fmt.Sprintf("restored backup %s, version %d", res.Backup.ID, res.Version)}
					if res.VersionBefore >= 0 {
						out.Before = map[string]any{"version": res.VersionBefore}
					}
					return out, err
				})
			if err != nil {
				return err
			}
			if f.JSON() {
				return dbWriteJSON(f.IO.Out, res)
			}
			fmt.Fprintf(f.IO.Out, "restored: backup %s into %s, %s version %d\n", res.Backup.ID, res.Database, res.Backup.MigrationTool, res.Version)
			return nil
		},
	}
	d.bind(cmd, false)
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.Flags().StringVar(&dir, "backup-dir", "", dbBackupDirUsage)
	rec.add(cmd)
	rec.evidence.add(cmd)
	return cmd
}
