package command

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/clusterlock"
	"github.com/vibestack/rollback/pkg/incident"
	"github.com/vibestack/rollback/pkg/journal"
)

// runFlags are the flags of `rollback run`.
type runFlags struct {
	rb                         runbookFlag
	steps                      []string
	reason, resume, journalDir string
	pauseAfter, pauseFile      string
	yes, dryRun, acceptNoGo    bool
	force, acceptDataLoss      bool
	replacePods, noStuck       bool
	dbSteps                    int
	dbTo                       int64
	verify                     verifyFlags
	health                     time.Duration
	lockDuration               time.Duration
	evidence                   evidenceFlags
}

func newRunCmd(f *Factory) *cobra.Command {
	var fl runFlags
	cmd := &cobra.Command{
		Use:   "run [--yes] [--dry-run] [--steps app,config,db] [--reason WHY] | --resume INCIDENT",
		Short: "Run the whole rollback as one incident: lock, notify, preflight, app, config, db, health, report",
		Long: `Run the runbook's rollback as one incident:

  1. open an incident (an id) and its journal, take the application's cluster
     lock, notify "rollback started" with who, what and why (--reason);
  2. run the preflight checklist; NO-GO stops here, nothing changed
     (--accept-no-go goes ahead anyway, recorded in the journal);
  3. run each step in the runbook's order (default app, config, db), each
     with the code of its own command, behind a confirmation gate on a
     terminal (--yes skips the gates; without a terminal --yes is required);
  4. run the runbook's health checks, notify the outcome, write the report.

Interrupted (Ctrl-C, lost connection, crash)? "rollback run --resume ID"
continues from the journal without repeating finished steps.`,
		Example: `  rollback run --dry-run
  rollback run --yes --reason "v2 crash-loops after the 14:05 release"
  rollback run --yes --steps app,config
  rollback run --resume inc-20261126-101500-3f2a --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runIncident(cmd, f, &fl) },
	}
	fs := cmd.Flags()
	fl.rb.add(cmd)
	fs.StringSliceVar(&fl.steps, "steps", nil, "steps to run, in order (default: the runbook's steps, else app,config,db)")
	fs.StringVar(&fl.reason, "reason", "", "why you roll back; goes into notifications and the report")
	fs.StringVar(&fl.resume, "resume", "", "continue the interrupted incident with this id")
	fs.BoolVarP(&fl.yes, "yes", "y", false, "do not stop at the confirmation gates (required without a terminal)")
	fs.BoolVar(&fl.dryRun, "dry-run", false, "plan every step and change nothing (no journal, no lock, no notification)")
	fs.BoolVar(&fl.acceptNoGo, "accept-no-go", false, "go ahead although preflight says NO-GO (recorded)")
	fs.BoolVar(&fl.force, "force", false, "roll back workloads whose owner (an operator, Argo CD, Flux, a Helm release) would revert the undo or keeps its own history")
	fs.BoolVar(&fl.replacePods, "replace-pods", false, "OnDelete StatefulSets and DaemonSets: replace the pods left at other revisions, one at a time")
	fs.BoolVar(&fl.noStuck, "no-replace-stuck", false, "leave in place the crash-looping pod an OrderedReady StatefulSet waits for (kubernetes/kubernetes#67250)")
	fs.BoolVar(&fl.acceptDataLoss, "accept-data-loss", false, "allow database downs that destroy data (DROP TABLE, ...)")
	fs.IntVar(&fl.dbSteps, "db-steps", 0, "migrations the db step reverts (default 1)")
	fs.Int64Var(&fl.dbTo, "db-to", 0, "version the db step reverts to (instead of --db-steps)")
	fs.StringVar(&fl.journalDir, "journal-dir", "", "directory of journals and reports (default $ROLLBACK_JOURNAL_DIR or ~/.local/state/rollback/incidents)")
	fl.verify.bind(cmd, false)
	fs.DurationVar(&fl.health, "health-timeout", time.Minute, "how long the health checks after the rollback may take to pass")
	fs.DurationVar(&fl.lockDuration, "lock-duration", clusterlock.DefaultDuration, "cluster lock lease duration (renewed while running)")
	fl.evidence.add(cmd)
	fs.StringVar(&fl.pauseAfter, "pause-after", "", "stop after this step and wait (drills and tests); resume with --resume")
	_ = fs.MarkHidden("pause-after")
	fs.StringVar(&fl.pauseFile, "pause-file", "", "with --pause-after: go on once this file is removed (tests change the cluster or database in between)")
	_ = fs.MarkHidden("pause-file")
	return cmd
}

func runIncident(cmd *cobra.Command, f *Factory, fl *runFlags) error {
	ctx := ctxOf(cmd)
	if fl.dbSteps != 0 && cmd.Flags().Changed("db-to") {
		return exitcode.AsRefused(errors.New("--db-steps and --db-to exclude each other: pass one"))
	}
	lim, err := fl.evidence.limits()
	if err != nil {
		return err
	}
	in, err := loadIncidentInputs(f, &fl.rb, fl.steps)
	if err != nil {
		return err
	}
	releases, err := f.releasesFor(in.rb)
	if err != nil {
		return err
	}
	if !fl.yes && !fl.dryRun && !f.IO.InTTY {
		return exitcode.AsRefused(errors.New("no terminal for the confirmation gates: run again with --yes (or --dry-run to see the plan); nothing was changed"))
	}
	r := &incident.Run{
		Runbook: in.rb, RunbookPath: in.path, Clusters: in.clusters, Steps: fl.steps, Reason: fl.reason,
		Actor: clusterlock.DefaultHolder(), Resume: fl.resume, DryRun: fl.dryRun, AcceptNoGo: fl.acceptNoGo,
		Force: fl.force, ReplacePods: fl.replacePods, NoReplaceStuck: fl.noStuck, AcceptDataLoss: fl.acceptDataLoss,
		DB:          incident.DBTarget{Steps: fl.dbSteps, To: fl.dbTo, HasTo: cmd.Flags().Changed("db-to")},
		DatabaseURL: in.opts.DatabaseURL, JournalDir: fl.journalDir, Channels: in.opts.Channels, Secrets: in.secrets,
		Prometheus: in.opts.Prometheus, HTTPClient: in.opts.HTTPClient, Preflight: in.preflight(f), Verification: fl.verify.value(f),
		HealthTimeout: fl.health, LockDuration: fl.lockDuration, Process: f.Process, Clock: f.Clock, Observer: f.observer(),
		AfterRecord: f.faultHook(), Evidence: lim, Releases: releases,
	}
	if r.JournalDir == "" {
		r.JournalDir = journal.DefaultDir()
	}
	if !fl.yes {
		r.Confirm = func(_, question string) (bool, error) { return f.IO.Confirm(question) }
	}
	if fl.pauseAfter != "" {
		r.AfterStep = func(step string) {
			if step != fl.pauseAfter {
				return
			}
			if fl.pauseFile == "" {
				fmt.Fprintf(f.IO.ErrOut, "paused after step %s; stop this process and continue with `rollback run --resume ID`\n", step)
				<-ctx.Done()
				return
			}
			fmt.Fprintf(f.IO.ErrOut, "paused after step %s until %s is removed\n", step, fl.pauseFile)
			for {
				if _, err := os.Stat(fl.pauseFile); err != nil {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-f.Clock.After(100 * time.Millisecond):
				}
			}
		}
	}
	res, err := r.Run(ctx)
	if res != nil {
		if f.JSON() {
			if perr := printJSON(f, res); perr != nil && err == nil {
				err = perr
			}
		} else {
			incident.WriteResult(f.IO.Out, res)
		}
	}
	return err
}
