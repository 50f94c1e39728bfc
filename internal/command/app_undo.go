package command

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/exitcode"
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
	)
	cmd := &cobra.Command{
		Use:   "undo (DEPLOYMENT | -l SELECTOR [-A])",
		Short: "Roll back to the last known good revision (or --to-revision), then watch and verify",
		Long: `Roll a Deployment back to its last known good revision (or --to-revision N),
then watch the rollout (failing fast on crash loops and image pull errors) and
verify it: every pod ready, restarts stable over --settle, each --check-url 2xx.
On success the revision is stamped known-good.

Refuses, changing nothing, a paused Deployment, a pruned revision, a Deployment
managed by Argo CD or Flux (unless --force), and a fallback target that never
became healthy (unless --to-revision). Without a terminal, --yes is required.
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
				ToRevision: toRevision, DryRun: dryRun, Force: force,
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
				res, err := b.Run(ctxOf(cmd))
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
			res, err := u.Run(ctxOf(cmd), args[0])
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
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though Argo CD or Flux manages the deployment")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "undo every deployment matching this label selector")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "with -l: look in every namespace")
	cmd.Flags().IntVar(&concurrency, "concurrency", rollout.DefaultConcurrency, "with -l: concurrent writes")
	v.add(cmd)
	return cmd
}
