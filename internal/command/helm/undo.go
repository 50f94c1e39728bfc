package helmcmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/evidence"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

func newUndoCmd(f *command.Factory) *cobra.Command {
	var (
		toRevision, history  int
		dryRun, yes, recover bool
		force                bool
	)
	var verify func(*command.Factory) rollout.Verification
	var record func(*command.Factory, string, string, string, corev1client.ConfigMapInterface, ...lifecycle.LockTarget) lifecycle.OneStep
	cmd := &cobra.Command{
		Use:   "undo RELEASE",
		Short: "Roll a release back to its last known good revision through Helm's library, then verify every Deployment, StatefulSet and DaemonSet",
		Long: `Roll a Helm release back to the newest revision rollback verified healthy
(or --to-revision N, which may be any revision), with Helm's own rollback, so
that helm history records it. A StatefulSet of the release that waits for a
failing pod of the bad revision (OrderedReady, kubernetes/kubernetes#67250)
gets that one pod replaced. Then every Deployment, StatefulSet and DaemonSet of
the release is watched (failing fast on crash loops) and verified, and the new
revision is marked good or failed.

Refuses, changing nothing: a release whose last operation is still pending-*
(say who and since when; --recover-pending marks it failed first); no revision
known good and no --to-revision; a workload of the release that Argo CD, Flux
or an operator would revert (unless --force); a target whose pods could not
start (a ConfigMap, Secret, key, PersistentVolumeClaim or ServiceAccount it
needs exists neither in the namespace nor in its manifest). --dry-run prints
the values diff (secret-looking values redacted) and the rendered objects diff.

The rollback is an incident (or a step of the one --incident names): journaled,
under the release's cluster lock, the one rollback run and guard take.`,
		Example: `  rollback helm undo web -n shop --dry-run
  rollback helm undo web -n shop --yes
  rollback helm undo web -n shop --to-revision 3 --yes
  rollback helm undo web -n shop --recover-pending --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if toRevision < 0 {
				return exitcode.AsRefused(fmt.Errorf("--to-revision must be positive, got %d", toRevision))
			}
			cfg, err := config(f)
			if err != nil {
				return err
			}
			ctx := command.ContextOf(cmd)
			release := args[0]
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
			var res *helmrelease.UndoResult
			// in and plan are the incident and the checked plan: the
			// evidence of the release's workloads is kept before Helm's
			// rollback writes.
			var in *lifecycle.Incident
			var plan *helmrelease.Plan
			run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
				if in != nil && plan != nil {
					clients := rollout.NewClients(cfg.Clientset, plan.Namespace)
					var sources []evidence.Source
					for _, name := range plan.Workloads {
						if w, err := rollout.ParseWorkload(name); err == nil {
							sources = append(sources, evidence.Workload{Clients: clients, Kind: w.Kind, Namespace: plan.Namespace, Name: w.Name})
						}
					}
					in.Collect(ctx, "helm", sources...)
				}
				u.Observer = obs
				var err error
				res, err = u.Run(ctx, release)
				return outcomeOf(res), err
			}
			if dryRun {
				_, err = run(ctx, f.Observer())
			} else {
				cs := cfg.Clientset
				step := record(f, release, "helm", helmtarget.Ref{Name: release}.Target(), cs.CoreV1().ConfigMaps(cfg.Namespace),
					lifecycle.Workload(cs.CoordinationV1().Leases(cfg.Namespace), cfg.Namespace, "helmrelease", release))
				step.OnOpen = func(opened *lifecycle.Incident) { u.Journal, in = opened, opened }
				// Bad input, a refused plan and a missing terminal are
				// refused before anything is recorded.
				step.Check = func(ctx context.Context) error {
					dry := *u
					dry.DryRun, dry.Observer, dry.Confirm = true, nil, nil
					r, err := dry.Run(ctx, release)
					if r != nil {
						plan = r.Plan
					}
					if err == nil && !yes && !f.IO.InTTY && r.Verdict != helmrelease.VerdictSkipped {
						err = exitcode.AsRefused(errNoTTY)
						r.Verdict, r.Error = helmrelease.VerdictRefused, err.Error()
					}
					if err != nil {
						res = r
					}
					return err
				}
				_, err = step.Run(ctx, run)
			}
			if res != nil {
				if f.JSON() {
					if perr := command.PrintJSON(f, res); perr != nil {
						return perr
					}
				} else {
					helmtarget.WriteUndoResult(f.IO.Out, res)
				}
			}
			return err
		},
	}
	cmd.Flags().IntVar(&toRevision, "to-revision", 0, "revision to roll back to, whatever its health (default: the last known good one)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, the values diff and the rendered objects diff; change nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	cmd.Flags().BoolVar(&recover, "recover-pending", false, "mark a pending-install/upgrade/rollback current revision failed first (only when no helm operation is running)")
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though Argo CD, Flux or an operator manages a workload of the release")
	cmd.Flags().IntVar(&history, "history-max", helmtarget.DefaultMaxHistory, "revisions Helm keeps for the release after the rollback (0: no limit), as helm rollback --history-max")
	verify = command.Verify(cmd)
	record = command.Record(cmd)
	return cmd
}

// outcomeOf is what the journal records of an undo of a release.
func outcomeOf(res *helmrelease.UndoResult) lifecycle.StepOutcome {
	out := lifecycle.StepOutcome{}
	if res == nil || res.Plan == nil {
		return out
	}
	p := res.Plan
	out.Skipped = res.Verdict == helmrelease.VerdictSkipped
	out.Before = map[string]any{"revision": p.From.Revision, "status": p.From.Status, "chart": p.From.Chart}
	out.After = map[string]any{"revision": res.NewRevision, "restoredRevision": p.To.Revision, "chart": p.To.Chart, "verdict": res.Verdict, "marked": res.Marked}
	out.Detail = helmtarget.Detail(res)
	return out
}
