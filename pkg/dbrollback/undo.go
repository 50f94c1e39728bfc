package dbrollback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vibestack/rollback/pkg/progress"

	"k8s.io/utils/clock"

	"github.com/vibestack/rollback/pkg/outcome"
)

// UndoOptions configure an undo.
type UndoOptions struct {
	Options
	Request
	// AcceptDataLoss allows downs that destroy data (DROP TABLE, ...).
	AcceptDataLoss bool
	// BackupDir holds the backups (default DefaultBackupDir).
	BackupDir string
	// BackupVerified names an existing verified backup of this database at
	// the current version to use instead of taking a new one.
	BackupVerified string
	// PreferBackup names a verified backup taken earlier (the incident's
	// early backup): it is used when the database is still at the version
	// it was taken at, otherwise a fresh backup is taken.
	PreferBackup string
	// Confirm is asked after the plan is made and before anything is done;
	// nil means the user already said yes (--yes).
	Confirm func(*Plan) (bool, error)
	// Observer receives progress events; nil discards them.
	Observer progress.Observer
	// Clock times the backup; nil means the real clock.
	Clock clock.PassiveClock
}

// UndoResult reports what an undo did.
type UndoResult struct {
	Plan   *Plan   `json:"plan,omitempty"`
	Backup *Backup `json:"backup,omitempty"`
	// Skipped is true when there was nothing to revert.
	Skipped bool `json:"skipped"`
	// Version and Dirty are the state after the undo.
	Version  int64 `json:"version"`
	Dirty    bool  `json:"dirty"`
	Verified bool  `json:"verified"`
	// Failure is set when the revert or its verification failed after
	// changes were made.
	Failure *Failure `json:"failure,omitempty"`
}

// Failure describes the state a failed undo left and how to go back.
type Failure struct {
	Error         string   `json:"error"`
	Version       int64    `json:"version"`
	Dirty         bool     `json:"dirty"`
	SchemaChanges []string `json:"schemaChanges"`
	Explanation   string   `json:"explanation"`
	// RestoreCommand puts the database back to the state before the undo.
	RestoreCommand string `json:"restoreCommand"`
}

// Undo reverts migrations the safe way: under a lock that refuses a second
// concurrent undo, it plans (refusing missing or empty downs, a dirty
// database, too few applied, data loss without AcceptDataLoss), asks for
// confirmation, takes and verifies a backup (or checks BackupVerified), then
// reverts under the tool's lock and verifies the result. If the backup fails
// nothing else happens.
func Undo(ctx context.Context, o UndoOptions) (*UndoResult, error) {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.BackupDir == "" {
		o.BackupDir = DefaultBackupDir
	}
	s, err := openSession(ctx, o.Options)
	if err != nil {
		return nil, err
	}
	defer s.close()
	res, err := s.undo(ctx, o)
	return res, s.t.redactErr(err)
}

func (s *session) undo(ctx context.Context, o UndoOptions) (*UndoResult, error) {
	lk, err := takeUndoLock(ctx, s.db, s.t)
	if err != nil {
		return nil, err
	}
	defer lk.release()

	st, err := s.status(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := s.plan(st, o.Request)
	if err != nil {
		return nil, err
	}
	res := &UndoResult{Plan: plan, Version: st.Version}
	if plan.NoOp() {
		// The status just read is the verification: at the target, not dirty
		// (a dirty database is refused by the plan).
		emit(o.Observer, progress.Verifying, "")
		emit(o.Observer, progress.Info, "skipped: %s is already at version %d, not dirty", s.t, st.Version)
		res.Skipped, res.Verified = true, true
		return res, nil
	}
	if err := plan.DataLossRefusal(o.AcceptDataLoss); err != nil {
		return res, err
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(plan)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, refusef("cancelled; nothing was changed")
		}
	}

	// 1. Backup, verified by reading it back; nothing else happens if it fails.
	if o.BackupVerified == "" && o.PreferBackup != "" {
		if b, err := s.usableBackup(ctx, o.BackupDir, o.PreferBackup, st); err == nil {
			emit(o.Observer, progress.Info, "backup: using the early backup %s, still at version %d (sha256 re-checked)", b.ID, st.Version)
			res.Backup = b
		} else {
			emit(o.Observer, progress.Warning, "backup: the early backup %s cannot be used (%v); taking a fresh one", o.PreferBackup, err)
		}
	}
	if res.Backup != nil {
		// the early backup
	} else if o.BackupVerified != "" {
		b, err := s.usableBackup(ctx, o.BackupDir, o.BackupVerified, st)
		if err != nil {
			return res, err
		}
		emit(o.Observer, progress.Info, "backup: using verified backup %s (sha256 re-checked)", b.ID)
		res.Backup = b
	} else {
		b, err := takeBackup(ctx, s.t, backupRequest{
			dir: o.BackupDir, clock: o.Clock, obs: o.Observer, lockTimeout: s.opts.LockTimeout,
			serverVersion: st.ServerVersion, migrationTool: s.tool, migrationVersion: st.Version,
		})
		if err != nil {
			return res, fmt.Errorf("%w; nothing was changed", err)
		}
		res.Backup = b
	}
	restoreCmd := fmt.Sprintf("rollback db restore %s --database %s --backup-dir %s", res.Backup.ID, s.t, o.BackupDir)

	// The state must not have moved while the backup ran.
	if v, dirty, _, err := s.state(ctx); err != nil {
		return res, err
	} else if v != st.Version || dirty {
		return res, refusef("the database moved from version %d to %d (dirty=%t) during the backup: another migration is running; nothing was changed, run again later", st.Version, v, dirty)
	}

	before, err := readSchema(ctx, s.db, s.t.Engine)
	if err != nil {
		return res, err
	}

	// 2. Revert under the tool's lock.
	emit(o.Observer, progress.Info, "revert: %s %d -> %d (%d migrations) with %s", s.t, plan.From, plan.To, len(plan.Steps), toolVersion(s.tool))
	var revertErr error
	err = s.withTool(ctx, func(tl tool) error {
		revertErr = tl.revert(ctx, len(plan.Steps), plan.To)
		return nil
	})
	if err == nil {
		err = revertErr
	}
	if err == nil {
		emit(o.Observer, progress.Written, "reverted: %s %d -> %d", s.t, plan.From, plan.To)
	}

	// 3. Verify: version, dirty flag, applied list.
	emit(o.Observer, progress.Verifying, "")
	v, dirty, applied, stateErr := s.state(ctx)
	res.Version, res.Dirty = v, dirty
	if err == nil && stateErr == nil {
		var problems []string
		if v != plan.To {
			problems = append(problems, fmt.Sprintf("version is %d, expected %d", v, plan.To))
		}
		if dirty {
			problems = append(problems, "the database is dirty")
		}
		if !slices.Equal(applied, plan.Remaining) && !(len(applied) == 0 && len(plan.Remaining) == 0) {
			problems = append(problems, fmt.Sprintf("applied migrations are %s, expected %s", versionList(applied), versionList(plan.Remaining)))
		}
		if len(problems) == 0 {
			res.Verified = true
			emit(o.Observer, progress.Info, "verified: %s at version %d, not dirty, applied %s", s.t, v, versionList(applied))
			return res, nil
		}
		err = errors.New("verification failed: " + strings.Join(problems, "; "))
	}
	if err == nil {
		err = stateErr
	}
	res.Failure = s.failure(ctx, err, plan, before, v, dirty, stateErr, restoreCmd)
	if stateErr == nil && v == plan.From && !dirty && len(res.Failure.SchemaChanges) == 0 {
		// The tool failed before changing anything (e.g. a lock timeout).
		res.Failure = nil
		return res, fmt.Errorf("revert %s: %w; nothing was changed (version %d, schema as before); backup %s was taken", s.t, err, v, res.Backup.ID)
	}
	return res, outcome.AsUnhealthy(fmt.Errorf("undo of %s failed after changes: %w\n%s\nto go back to the state before the undo: %s",
		s.t, err, res.Failure.Explanation, restoreCmd))
}

// failure describes the state after a failed revert: the tracking table,
// how the schema changed, and what that means for the engine.
func (s *session) failure(ctx context.Context, err error, plan *Plan, before Schema, v int64, dirty bool, stateErr error, restoreCmd string) *Failure {
	f := &Failure{Error: s.t.Redact(err.Error()), Version: v, Dirty: dirty, RestoreCommand: restoreCmd, SchemaChanges: []string{}}
	if after, serr := readSchema(ctx, s.db, s.t.Engine); serr == nil {
		f.SchemaChanges = before.Diff(after)
	}
	var b strings.Builder
	if stateErr != nil {
		fmt.Fprintf(&b, "The tracking table could not be read (%v). ", stateErr)
	} else {
		fmt.Fprintf(&b, "The tracking table now says version %d, dirty=%t. ", v, dirty)
	}
	if len(f.SchemaChanges) == 0 {
		b.WriteString("The schema is unchanged since before the undo")
	} else {
		fmt.Fprintf(&b, "The schema changed since before the undo: %s", strings.Join(f.SchemaChanges, ", "))
	}
	if dirty && s.tool == ToolMigrate {
		failed := v
		for _, m := range plan.Steps {
			if m.Version > v {
				failed = m.Version
			}
		}
		if s.t.Engine == Postgres {
			fmt.Fprintf(&b, ". PostgreSQL rolled the failed down of %d back as a whole, so the schema is still version %d although golang-migrate recorded %d dirty: run `migrate -path %s -database %s force %d`, fix the cause above and undo again", failed, failed, v, s.opts.MigrationsDir, s.t, failed)
		} else {
			fmt.Fprintf(&b, ". %s commits DDL statement by statement: the down of %d ran partly (the changes above) and golang-migrate recorded %d dirty; the database is in neither version", s.t.Engine.Display(), failed, v)
		}
	}
	f.Explanation = b.String() + "."
	return f
}

// usableBackup checks that backup id is a verified backup of this database
// at its current version and that its file is unchanged.
func (s *session) usableBackup(ctx context.Context, dir, id string, st *Status) (*Backup, error) {
	b, err := LoadBackup(dir, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !b.Verified:
		return nil, refusef("backup %s was not verified: take a new one (omit --backup-verified)", id)
	case b.DatabaseKey != s.t.Key():
		return nil, refusef("backup %s is of %s, not of %s: omit --backup-verified to take a new backup", id, b.DatabaseKey, s.t.Key())
	case b.MigrationTool != s.tool || b.MigrationVersion != st.Version:
		return nil, refusef("backup %s was taken at %s version %d, the database is now at %s version %d: omit --backup-verified to take a new backup", id, b.MigrationTool, b.MigrationVersion, s.tool, st.Version)
	}
	size, sum, err := hashFile(dirJoin(dir, b.File))
	if err != nil {
		return nil, refuse(fmt.Errorf("backup %s: %w", id, err))
	}
	if size != b.Size || sum != b.SHA256 {
		return nil, refusef("backup %s changed since it was taken (sha256 %s, metadata says %s): take a new one", id, sum, b.SHA256)
	}
	return b, nil
}

// DataLossRefusal is the refusal of a plan whose downs may destroy data,
// naming every finding, unless acceptDataLoss; nil when there is none.
func (p *Plan) DataLossRefusal(acceptDataLoss bool) error {
	if len(p.DataLoss) == 0 || acceptDataLoss {
		return nil
	}
	var lines []string
	for _, f := range p.DataLoss {
		lines = append(lines, fmt.Sprintf("%s:%d %s (%s)", f.File, f.Line, f.Statement, f.Reason))
	}
	return refusef("the downs destroy data:\n  %s\nread `rollback db plan`, then pass --accept-data-loss to go ahead (a verified backup is taken first); nothing was changed", strings.Join(lines, "\n  "))
}
