package incident

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/vibestack/rollback/pkg/dbrollback"
	"github.com/vibestack/rollback/pkg/outcome"
	"github.com/vibestack/rollback/pkg/progress"
)

// dbPlan is what the db step records before it writes: the absolute target
// version, so that a resume never reverts further than planned.
type dbPlan struct {
	From  int64   `json:"from"`
	To    int64   `json:"to"`
	Steps []int64 `json:"steps"`
}

// dbStep takes a verified backup and reverts migrations with dbrollback.Undo.
func (s *session) dbStep(ctx context.Context) ([]StepResult, error) {
	const target = "database"
	if s.targetDone("db", target) {
		res, err := s.target(ctx, "db", target, "", nil, nil)
		return []StepResult{res}, err
	}
	rb := s.r.Runbook.Database
	if s.r.DatabaseURL == "" {
		err := outcome.AsRefused(fmt.Errorf("no database URL: set %s", dbURLSource(rb.URLFromEnv, rb.URLFromFile)))
		return []StepResult{{Step: "db", Target: target, Verdict: stepFailed, Error: err.Error()}}, err
	}
	opts := s.dbOptions()
	var plan dbPlan
	if !s.recordedPlan("db", target, &plan) {
		req := dbrollback.Request{Steps: s.db.Steps, To: s.db.To, HasTo: s.db.HasTo}
		if req.Steps == 0 && !req.HasTo {
			req.Steps = 1
		}
		p, err := dbrollback.MakePlan(ctx, opts, req)
		if err != nil {
			return []StepResult{{Step: "db", Target: target, Verdict: stepFailed, Error: err.Error()}}, fmt.Errorf("plan database rollback: %w", err)
		}
		if p.NoOp() {
			res, err := s.target(ctx, "db", target, "", nil, func(progress.Observer) (StepResult, error) {
				return StepResult{Verdict: stepSkipped, Detail: fmt.Sprintf("already at version %d", p.From)}, nil
			})
			return []StepResult{res}, err
		}
		plan = dbPlan{From: p.From, To: p.To}
		for _, m := range p.Steps {
			plan.Steps = append(plan.Steps, m.Version)
		}
	}
	written := len(s.targetWrittenPhases("db", target)) > 0
	res, err := s.target(ctx, "db", target, "", plan, func(obs progress.Observer) (StepResult, error) {
		ur, err := dbrollback.Undo(ctx, dbrollback.UndoOptions{
			Options: opts, Request: dbrollback.Request{To: plan.To, HasTo: true},
			AcceptDataLoss: s.r.AcceptDataLoss, BackupDir: s.backupDir(), Observer: obs, Clock: s.r.Clock,
			PreferBackup: s.earlyBackupID(ctx),
		})
		res := StepResult{Before: map[string]any{"version": plan.From}}
		if ur != nil {
			res.After = map[string]any{"version": ur.Version, "dirty": ur.Dirty, "verified": ur.Verified}
			res.Detail = fmt.Sprintf("version %d -> %d", plan.From, ur.Version)
			if ur.Backup != nil {
				res.After["backup"] = filepath.Join(s.backupDir(), ur.Backup.File)
				res.After["backupID"] = ur.Backup.ID
				res.Detail += fmt.Sprintf(", verified backup %s", ur.Backup.ID)
			}
			if ur.Skipped {
				res.Verdict = stepSkipped
				res.Detail = fmt.Sprintf("already at version %d", ur.Version)
				if written {
					res.Verdict = stepDone
					res.Detail = fmt.Sprintf("reverted to version %d before the interruption; verified at version %d, not dirty", plan.To, ur.Version)
				}
			}
			if ur.Failure != nil {
				res.After["restore"] = ur.Failure.RestoreCommand
			}
		}
		return res, err
	})
	return []StepResult{res}, err
}

// relative resolves a runbook path against the runbook's directory.
func (s *session) relative(p string) string {
	if p == "" || filepath.IsAbs(p) || s.r.RunbookPath == "" {
		return p
	}
	return filepath.Join(filepath.Dir(s.r.RunbookPath), p)
}

func (s *session) backupDir() string {
	d := s.r.Runbook.Database.BackupDir
	if d == "" {
		d = "backups"
	}
	return s.relative(d)
}

// dbLockTimeout bounds the database statements' lock waits.
const dbLockTimeout = 10 * time.Second

func dbTool(t string) string {
	if t == "auto" {
		return ""
	}
	return t
}

func dbURLSource(env, file string) string {
	if env != "" {
		return "the environment variable " + env
	}
	return "the file " + file
}
