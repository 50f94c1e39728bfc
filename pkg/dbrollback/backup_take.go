package dbrollback

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/progress"
)

// BackupOptions say which database to back up and where.
type BackupOptions struct {
	Options
	// Dir holds the backups (DefaultBackupDir when empty).
	Dir string
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// Clock times the backup; nil means the real clock.
	Clock clock.PassiveClock
}

// TakeBackup takes a verified backup of the database now, recording the
// migration version it was taken at. `rollback run` starts one at the
// beginning of the incident, beside the application and configuration
// steps, and hands it to the db step's Undo (UndoOptions.PreferBackup),
// which uses it only if the database is still at that version.
func TakeBackup(ctx context.Context, o BackupOptions) (*Backup, error) {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Dir == "" {
		o.Dir = DefaultBackupDir
	}
	s, err := openSession(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	defer s.close()
	st, err := s.status(ctx)
	if err != nil {
		return nil, s.t.redactErr(err)
	}
	b, err := takeBackup(ctx, s.t, backupRequest{
		dir: o.Dir, clock: o.Clock, obs: o.Observer, lockTimeout: s.opts.LockTimeout,
		serverVersion: st.ServerVersion, migrationTool: s.tool, migrationVersion: st.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("early backup: %w", err)
	}
	return b, nil
}
