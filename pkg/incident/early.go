package incident

import (
	"context"
	"path/filepath"
	"slices"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/journal"
)

// earlyBackup is the verified database backup a run starts at its
// beginning, beside the application and configuration steps, so that it
// is ready when the db step begins.
type earlyBackup struct {
	done   chan struct{}
	cancel context.CancelFunc
	b      *dbrollback.Backup
	err    error
}

// startEarlyBackup starts the backup of the db step's database in the
// background when the run has a db step that has not started yet.
func (s *session) startEarlyBackup(ctx context.Context) {
	if !slices.Contains(s.steps, "db") || s.r.Runbook.Database == nil || s.r.DatabaseURL == "" ||
		s.targetStarted("db", "database") || s.targetDone("db", "database") {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &earlyBackup{done: make(chan struct{}), cancel: cancel}
	s.early = e
	opts := dbrollback.BackupOptions{Options: s.dbOptions(), Dir: s.backupDir(), Clock: s.r.Clock, Observer: s.r.Observer}
	s.progress("db: taking the verified backup now, while the other steps run")
	go func() {
		defer close(e.done)
		e.b, e.err = dbrollback.TakeBackup(ctx, opts)
		if e.err != nil {
			return
		}
		s.log(ctx, journal.Entry{Step: "db", Action: journal.ActionBackupTaken, Target: "database", Result: journal.ResultOK,
			After: map[string]any{"backupID": e.b.ID, "version": e.b.MigrationVersion, "backup": filepath.Join(s.backupDir(), e.b.File),
				"sha256": e.b.SHA256, "size": e.b.Size, "seconds": e.b.DurationSeconds}})
	}()
}

// earlyBackupID waits for the early backup and returns its id, "" when
// there is none or it failed (the db step then takes its own).
func (s *session) earlyBackupID(ctx context.Context) string {
	e := s.early
	if e == nil {
		return ""
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return ""
	}
	if e.err != nil {
		s.progress("warning: the early backup failed (%v); the db step takes its own", e.err)
		return ""
	}
	return e.b.ID
}

// stopEarlyBackup cancels an early backup still running (a step before
// the db step failed) and waits for it to clean up.
func (s *session) stopEarlyBackup() {
	if e := s.early; e != nil {
		e.cancel()
		<-e.done
	}
}

// dbOptions are the database options of the runbook.
func (s *session) dbOptions() dbrollback.Options {
	rb := s.r.Runbook.Database
	return dbrollback.Options{DatabaseURL: s.r.DatabaseURL, MigrationsDir: s.relative(rb.MigrationsDir), Tool: dbTool(rb.Tool), LockTimeout: dbLockTimeout}
}
