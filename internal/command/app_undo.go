package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

// errAppNoTTY refuses a write that nobody confirmed.
var errAppNoTTY = errors.New("no terminal to confirm on: re-run with --yes to roll back without a prompt (or --dry-run to see the plan)")

func newAppUndoCmd(f *Factory) *cobra.Command {
	var (
		v           verifyFlags
		toRevision  int64
		dryRun, yes bool
		force       bool
		selector    string
		all         bool
		concurrency int
		rec         recordFlags
	)
	cmd := &cobra.Command{
		Use:   "undo (DEPLOYMENT | -l SELECTOR [-A])",
		Short: "Roll back to the last known good revision (or --to-revision), then watch and verify",
		Long: `Roll a Deployment back to its last known good revision (or --to-revision N),
then watch the rollout (failing fast on crash loops and image pull errors) and
verify it: every pod ready, restarts stable over --settle, each --check-url 2xx.
On success the revision is stamped known-good.

Refuses, changing nothing, a Deployment whose owner would revert the undo or
keeps its own history (an operator's custom resource, Argo CD with automated
sync, Flux, a Helm release: use rollback helm undo RELEASE), unless --force;
a paused Deployment; a pruned revision; a target whose pods could not start
(a ConfigMap, Secret, key, PersistentVolumeClaim or ServiceAccount missing);
and a fallback target that never became healthy (unless --to-revision). Without a terminal, --yes is required.
With -l it undoes every matching Deployment concurrently.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (selector != "") {
				return exitcode.AsRefused(errors.New("name one deployment or pass -l SELECTOR (not both)"))
			}
			if all && selector == "" {
				return exitcode.AsRefused(errors.New("-A needs -l SELECTOR"))
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			u := rollout.Undo{
				Clients: rollout.NewClients(cs, ns), Verification: v.value(f), Observer: f.observer(),
				ToRevision: toRevision, DryRun: dryRun, Force: force, Snapshots: configs.SnapshotFinder{Client: cs},
			}
			if selector != "" {
				if all {
					ns = ""
				}
				b := rollout.BulkUndo{Clientset: cs, Namespace: ns, Selector: selector, Options: u, Concurrency: concurrency}
				if !yes {
					b.ConfirmAll = func(plans []*rollout.Plan) (bool, error) {
						if !f.IO.InTTY {
							return false, errAppNoTTY
						}
						return f.IO.Confirm(fmt.Sprintf("Roll back these %d deployments?", len(plans)))
					}
				}
				var res *rollout.BulkResult
				run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
					b.Options.Observer = obs
					var err error
					res, err = b.Run(ctx)
					out := lifecycle.StepOutcome{}
					if res != nil {
						out.After, out.Detail = res.Counts, fmt.Sprintf("%d deployments", len(res.Results))
					}
					return out, err
				}
				if dryRun {
					_, err = run(ctxOf(cmd), f.observer())
				} else {
					// One incident for the bulk undo, without per-Deployment
					// locks (a thousand Leases would double its requests).
					var mirror corev1client.ConfigMapInterface
					if ns != "" {
						mirror = cs.CoreV1().ConfigMaps(ns)
					}
					_, err = rec.oneStep(f, cmd, "bulk-"+selectorName(selector), "app", "selector/"+selector, mirror, nil).Run(ctxOf(cmd), run)
				}
				if res != nil {
					if f.JSON() {
						if perr := printJSON(f, res); perr != nil {
							return perr
						}
					} else {
						rollout.WriteBulkResult(f.IO.Out, res)
					}
				}
				return err
			}
			if !yes {
				u.Confirm = func(p *rollout.Plan) (bool, error) {
					if !f.IO.InTTY {
						return false, errAppNoTTY
					}
					return f.IO.Confirm(fmt.Sprintf("Roll back deployment %s to revision %d?", p.Deployment, p.To.Number))
				}
			}
			var res *rollout.UndoResult
			run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
				u.Observer = obs
				var err error
				res, err = u.Run(ctx, args[0])
				out := lifecycle.StepOutcome{}
				if res != nil {
					out.Skipped = res.Verdict == rollout.VerdictSkipped
					out.Before = map[string]any{"revision": res.FromRevision, "images": res.ImagesBefore}
					out.After = map[string]any{"revision": res.NewRevision, "restoredRevision": res.ToRevision, "images": res.ImagesAfter, "verdict": res.Verdict}
					out.Detail = fmt.Sprintf("revision %d -> %d, %s", res.FromRevision, res.ToRevision, res.Verdict)
				}
				return out, err
			}
			if dryRun {
				_, err = run(ctxOf(cmd), f.observer())
			} else {
				step := rec.oneStep(f, cmd, args[0], "app", "deployment/"+args[0], cs.CoreV1().ConfigMaps(ns), nil,
					lifecycle.Workload(cs.CoordinationV1().Leases(ns), ns, "deployment", args[0]))
				// Bad input and a missing terminal are refused before anything
				// is recorded.
				step.Check = func(ctx context.Context) error {
					if err := mayPatch(ctx, cs, ns, "apps", "deployments", args[0]); err != nil {
						return err
					}
					dry := u
					dry.DryRun, dry.Observer, dry.Confirm = true, nil, nil
					r, err := dry.Run(ctx, args[0])
					if err == nil && !yes && !f.IO.InTTY && r.Verdict != rollout.VerdictSkipped {
						err = exitcode.AsRefused(errAppNoTTY)
						r.Verdict, r.Error = rollout.VerdictRefused, err.Error()
					}
					if err != nil {
						res = r
						return err
					}
					// The undo writes from this plan, not from a second read.
					u.Planned = r.Plan()
					return nil
				}
				_, err = step.Run(ctxOf(cmd), run)
			}
			if res != nil {
				if f.JSON() {
					if perr := printJSON(f, res); perr != nil {
						return perr
					}
				} else {
					rollout.WriteUndoResult(f.IO.Out, res)
				}
			}
			return err
		},
	}
	cmd.Flags().Int64Var(&toRevision, "to-revision", 0, "revision to roll back to (default: the last known good one)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and the pod template diff; change nothing")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (required without a terminal)")
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though an operator, Argo CD, Flux or a Helm release manages the deployment (the result says what drift that leaves)")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "undo every deployment matching this label selector")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "with -l: look in every namespace")
	cmd.Flags().IntVar(&concurrency, "concurrency", rollout.DefaultConcurrency, "with -l: concurrent writes")
	v.add(cmd)
	rec.add(cmd)
	return cmd
}

// selectorName turns a label selector into a name for the incident's
// record (app=web,tier!=db -> app-web-tier-db).
func selectorName(sel string) string {
	var b []rune
	for _, r := range sel {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, r)
		case r >= 'A' && r <= 'Z':
			b = append(b, r+'a'-'A')
		case len(b) > 0 && b[len(b)-1] != '-':
			b = append(b, '-')
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
