package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/vibestack/rollback/internal/exitcode"
	"github.com/vibestack/rollback/pkg/configs"
	"github.com/vibestack/rollback/pkg/evidence"
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
		kinds       []string
		replacePods bool
		noStuck     bool
		rec         recordFlags
	)
	cmd := &cobra.Command{
		Use:   "undo (WORKLOAD | -l SELECTOR [-A] [--kind KIND])",
		Short: "Roll back to the last known good revision (or --to-revision), then watch and verify",
		Long: `Roll a workload (deployment/web, statefulset/db, daemonset/agent, or a bare
NAME for a Deployment) back to its last known good revision (or --to-revision N),
then watch the rollout (failing fast on crash loops and image pull errors) and
verify it: every pod ready, restarts stable over --settle, each --check-url 2xx.
On success the revision is stamped known-good.

Refuses, changing nothing, a workload whose owner would revert the undo or
keeps its own history (an operator's custom resource, Argo CD with automated
sync, Flux, a Helm release: use rollback helm undo RELEASE), unless --force;
a paused Deployment; a pruned revision; a target whose pods could not start
(a ConfigMap, Secret, key, PersistentVolumeClaim or ServiceAccount missing);
a StatefulSet or DaemonSet with the OnDelete strategy whose pods would stay at
another revision, unless --replace-pods (which replaces them one at a time,
each after the one before is Ready); and a fallback target that never became
healthy (unless --to-revision). Without a terminal, --yes is required.

A StatefulSet with OrderedReady pods does not replace a crash-looping pod of
the bad revision after its template is reverted (kubernetes/kubernetes#67250):
undo deletes that pod (never a Ready one, one at a time, with a UID
precondition, recorded in the journal) so that it comes back at the target
revision; --no-replace-stuck leaves it.

With -l it undoes every matching Deployment, StatefulSet and DaemonSet
concurrently (--kind narrows the kinds).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (selector != "") {
				return exitcode.AsRefused(errors.New("name one workload or pass -l SELECTOR (not both)"))
			}
			if all && selector == "" {
				return exitcode.AsRefused(errors.New("-A needs -l SELECTOR"))
			}
			if len(kinds) > 0 && selector == "" {
				return exitcode.AsRefused(errors.New("--kind narrows -l SELECTOR; to name one workload write its kind in the argument: statefulset/db, daemonset/agent"))
			}
			var bulkKinds []rollout.Kind
			for _, k := range kinds {
				kind, err := rollout.ParseKind(k)
				if err != nil {
					return exitcode.AsRefused(fmt.Errorf("--kind: %w", err))
				}
				bulkKinds = append(bulkKinds, kind)
			}
			var w rollout.Workload
			if len(args) == 1 {
				var err error
				if w, err = workloadArg(args[0]); err != nil {
					return err
				}
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			u := rollout.Undo{
				Clients: rollout.NewClients(cs, ns), Verification: v.value(f), Observer: f.observer(),
				ToRevision: toRevision, DryRun: dryRun, Force: force, ReplacePods: replacePods, NoReplaceStuck: noStuck,
				Snapshots: configs.SnapshotFinder{Client: cs},
			}
			if selector != "" {
				if all {
					ns = ""
				}
				b := rollout.BulkUndo{Clientset: cs, Namespace: ns, Selector: selector, Kinds: bulkKinds, Options: u, Concurrency: concurrency}
				if !yes {
					b.ConfirmAll = func(plans []*rollout.Plan) (bool, error) {
						if !f.IO.InTTY {
							return false, errAppNoTTY
						}
						return f.IO.Confirm(fmt.Sprintf("Roll back these %d %s?", len(plans), plansNoun(plans)))
					}
				}
				var res *rollout.BulkResult
				run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
					b.Options.Observer = obs
					var err error
					res, err = b.Run(ctx)
					out := lifecycle.StepOutcome{}
					if res != nil {
						out.After, out.Detail = res.Counts, fmt.Sprintf("%d %s", len(res.Results), resultsNoun(res.Results))
					}
					return out, err
				}
				if dryRun {
					_, err = run(ctxOf(cmd), f.observer())
				} else {
					// One incident for the bulk undo, without per-workload
					// locks (a thousand Leases would double its requests).
					var mirror corev1client.ConfigMapInterface
					if ns != "" {
						mirror = cs.CoreV1().ConfigMaps(ns)
					}
					step := rec.oneStep(f, cmd, "bulk-"+selectorName(selector), "app", "selector/"+selector, mirror, nil)
					step.Evidence = []evidence.Source{evidence.Selection{Clientset: cs, Namespace: ns, Selector: selector}}
					_, err = step.Run(ctxOf(cmd), run)
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
					return f.IO.Confirm(fmt.Sprintf("Roll back %s to revision %d?", p.Workload().Describe(), p.To.Number))
				}
			}
			var res *rollout.UndoResult
			run := func(ctx context.Context, obs progress.Observer) (lifecycle.StepOutcome, error) {
				u.Observer = obs
				var err error
				res, err = u.Run(ctx, w.String())
				out := lifecycle.StepOutcome{}
				if res != nil {
					out.Skipped = res.Verdict == rollout.VerdictSkipped
					out.Before = map[string]any{"revision": res.FromRevision, "images": res.ImagesBefore}
					out.After = map[string]any{"revision": res.NewRevision, "restoredRevision": res.ToRevision, "images": res.ImagesAfter, "verdict": res.Verdict}
					out.Detail = fmt.Sprintf("revision %d -> %d, %s", res.FromRevision, res.ToRevision, res.Verdict)
					if n := len(res.ReplacedPods); n > 0 {
						out.After.(map[string]any)["replacedPods"] = res.ReplacedPods
						out.Detail += fmt.Sprintf(", %d %s replaced", n, pluralWord(n, "pod"))
					}
				}
				return out, err
			}
			if dryRun {
				_, err = run(ctxOf(cmd), f.observer())
			} else {
				step := rec.oneStep(f, cmd, w.Name, "app", w.String(), cs.CoreV1().ConfigMaps(ns), nil, workloadLock(cs, ns, w))
				step.Evidence = workloadEvidence(u.Clients, ns, w, toRevision)
				// Bad input and a missing terminal are refused before anything
				// is recorded.
				step.Check = func(ctx context.Context) error {
					if err := mayPatch(ctx, cs, ns, "apps", w.Kind.Resource(), w.Name); err != nil {
						return err
					}
					dry := u
					dry.DryRun, dry.Observer, dry.Confirm = true, nil, nil
					r, err := dry.Run(ctx, w.String())
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
	cmd.Flags().BoolVar(&force, "force", false, "roll back even though an operator, Argo CD, Flux or a Helm release manages the workload (the result says what drift that leaves)")
	cmd.Flags().BoolVar(&replacePods, "replace-pods", false, "OnDelete strategy: replace the pods left at other revisions, one at a time, each after the one before is Ready")
	cmd.Flags().BoolVar(&noStuck, "no-replace-stuck", false, "leave in place the crash-looping pod of another revision that an OrderedReady StatefulSet waits for (kubernetes/kubernetes#67250)")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "undo every deployment, statefulset and daemonset matching this label selector")
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "with -l: only these kinds (deployment, statefulset, daemonset; deploy, sts, ds; repeatable or comma-separated)")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "with -l: look in every namespace")
	cmd.Flags().IntVar(&concurrency, "concurrency", rollout.DefaultConcurrency, "with -l: concurrent writes")
	v.add(cmd)
	rec.add(cmd)
	rec.evidence.add(cmd)
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

// plansNoun names the planned workloads: "deployments" when all are, else "workloads".
func plansNoun(plans []*rollout.Plan) string {
	for _, p := range plans {
		if p.Workload().Kind != rollout.KindDeployment {
			return "workloads"
		}
	}
	return "deployments"
}

// resultsNoun names the results' workloads like plansNoun.
func resultsNoun(results []*rollout.UndoResult) string {
	for _, r := range results {
		if r.Kind != rollout.KindDeployment && r.Kind != "" {
			return "workloads"
		}
	}
	return "deployments"
}
