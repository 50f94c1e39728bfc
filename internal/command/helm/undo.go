package helmcmd

import (
	"context"
	"fmt"
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/journal"
	"github.com/vibestack/rollback/pkg/rollout"
)

func newUndoCmd(f *command.Factory) *cobra.Command {
	var (
		toRevision, history  int
		dryRun, yes, recover bool
		force                bool
		incident, journalDir string
	)
	var verify func(*command.Factory) rollout.Verification
	cmd := &cobra.Command{
		Use:   "undo RELEASE",
		Short: "Roll a release back to its last known good revision through Helm's library, then verify every Deployment",
		Long: `Roll a Helm release back to the newest revision rollback verified healthy
(or --to-revision N, which may be any revision), with Helm's own rollback, so
that helm history records it. Then every Deployment of the release is watched
(failing fast on crash loops) and verified, and the new revision is marked good
or failed.

Refuses, changing nothing: a release whose last operation is still pending-*
(say who and since when; --recover-pending marks it failed first); no revision
known good and no --to-revision; a Deployment of the release that Argo CD, Flux
or an operator would revert (unless --force); a target whose pods could not
start (a ConfigMap, Secret, key, PersistentVolumeClaim or ServiceAccount it
needs exists neither in the namespace nor in its manifest). --dry-run prints
the values diff (secret-looking values redacted) and the rendered objects diff.`,
		Example: `  rollback helm undo web -n shop --dry-run
  rollback helm undo web -n shop --yes
  rollback helm undo web -n shop --to-revision 3 --yes
  rollback helm undo web -n shop --recover-pending --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if toRevision < 0 {
				return exitcode.AsRefused(fmt.Errorf("--to-revision must be positive, got %d", toRevision))
			}
			if incident != "" {
				if err := journal.ValidateID(incident); err != nil {
					return exitcode.AsRefused(err)
				}
			}
			cfg, err := config(f)
			if err != nil {
				return err
			}
			ctx := command.ContextOf(cmd)
			u := &helmrelease.Undo{Config: cfg, ToRevision: toRevision, DryRun: dryRun, RecoverPending: recover, Force: force,
				Verification: verify(f), Observer: f.Observer(),
				MaxHistory: history, Snapshots: configs.SnapshotFinder{Client: cfg.Clientset}}
			if !yes {
				u.Confirm = func(p *helmrelease.Plan) (bool, error) {
					if !f.IO.InTTY {
						return false, errNoTTY
					}
					return f.IO.Confirm(fmt.Sprintf("Roll back release %s to revision %d?", p.Release, p.To.Revision))
				}
			}
			var j *journal.Journal
			if !dryRun {
				// The journal opens before the first write, after the plan
				// and the confirmation.
				confirm := u.Confirm
				u.Confirm = func(p *helmrelease.Plan) (bool, error) {
					if confirm != nil {
						if ok, err := confirm(p); !ok || err != nil {
							return ok, err
						}
					}
					var err error
					j, err = openJournal(ctx, f, cfg, incident, journalDir, p)
					if err != nil {
						return false, err
					}
					u.Journal = j
					return true, nil
				}
			}
			res, err := u.Run(ctx, args[0])
			if j != nil {
				closeJournal(ctx, f, j, incident == "", res, err)
			}
			if res != nil {
				if f.JSON() {
					if perr := command.PrintJSON(f, res); perr != nil {
						return perr
					}
				} else {
					helmrelease.WriteUndoResult(f.IO.Out, res)
				}
			}
			return err
		},
	}
	cmd.Flags().IntVar(&toRevision, "to-revision", 0, "revision to roll back to, whatever its health (default: the last known good one)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, the values diff and the rendered objects diff; change nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	cmd.Flags().BoolVar(&recover, "recover-pending", false, "mark a pending-install/upgrade/rollback current revision failed first (only when no helm operation is running)")
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though Argo CD, Flux or an operator manages a Deployment of the release")
	cmd.Flags().IntVar(&history, "history-max", 10, "revisions Helm keeps for the release after the rollback (0: no limit), as helm rollback --history-max")
	cmd.Flags().StringVar(&incident, "incident", "", "incident id whose journal records the rollback (default: open a new incident)")
	cmd.Flags().StringVar(&journalDir, "journal-dir", "", "directory of incident journals (default $ROLLBACK_JOURNAL_DIR, else $XDG_STATE_HOME/rollback/incidents, else ~/.local/state/rollback/incidents)")
	verify = command.Verify(cmd)
	return cmd
}

// openJournal opens the journal of incident, or of a new incident whose
// first entry says why.
func openJournal(ctx context.Context, f *command.Factory, cfg helmrelease.Config, incident, dir string, p *helmrelease.Plan) (*journal.Journal, error) {
	id, isNew := incident, incident == ""
	if isNew {
		id = journal.NewID(f.Clock.Now())
	}
	j, err := journal.Open(journal.Options{Dir: dir, Incident: id, Clock: f.Clock, Actor: command.JournalActor(),
		Mirror: &journal.ConfigMapMirror{ConfigMaps: cfg.Clientset.CoreV1().ConfigMaps(cfg.Namespace), App: p.Release}})
	if err != nil {
		return nil, err
	}
	if isNew {
		fmt.Fprintf(f.IO.ErrOut, "opened incident %s for this rollback (journal %s)\n", id, j.Path())
		if _, err := j.Append(ctx, journal.Entry{Action: journal.ActionIncidentOpened, Inputs: map[string]any{
			"app": p.Release, "reason": "rollback helm undo " + p.Release, "steps": []string{"helm"}, "trigger": "helm undo"}}); err != nil {
			j.Close()
			return nil, err
		}
	}
	return j, nil
}

// closeJournal closes an incident this command opened.
func closeJournal(ctx context.Context, f *command.Factory, j *journal.Journal, opened bool, res *helmrelease.UndoResult, err error) {
	if opened {
		e := journal.Entry{Action: journal.ActionIncidentClosed, Result: journal.ResultOK, Inputs: map[string]any{"summary": "release rolled back, verified healthy"}}
		if err != nil || res == nil || res.Verdict != helmrelease.VerdictHealthy {
			e.Result = journal.ResultFailed
			if err != nil {
				e.Inputs["summary"] = err.Error()
			}
		}
		if _, aerr := j.Append(ctx, e); aerr != nil {
			fmt.Fprintf(f.IO.ErrOut, "warning: journal: %v\n", aerr)
		}
	}
	j.Flush(ctx)
	for _, merr := range j.MirrorErrors() {
		fmt.Fprintf(f.IO.ErrOut, "warning: %v: the local journal %s is complete; other engineers do not see this entry in the cluster\n", merr, j.Path())
	}
	j.Close()
}
