package command

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppRestartCmd(f *Factory) *cobra.Command {
	var rec recordFlags
	cmd := &cobra.Command{
		Use:   "restart DEPLOYMENT",
		Short: "Roll every pod (restartedAt with nanoseconds: two restarts within a second both take effect)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			var d *appsv1.Deployment
			step := rec.oneStep(f, cmd, args[0], "app", "deployment/"+args[0], cs.CoreV1().ConfigMaps(ns), nil,
				lifecycle.Workload(cs.CoordinationV1().Leases(ns), ns, "deployment", args[0]))
			step.Check = func(ctx context.Context) error {
				if err := mayPatch(ctx, cs, ns, "apps", "deployments", args[0]); err != nil {
					return err
				}
				return rollout.CheckRestart(ctx, cs.AppsV1().Deployments(ns), args[0])
			}
			_, err = step.Run(ctxOf(cmd),
				func(ctx context.Context, _ progress.Observer) (lifecycle.StepOutcome, error) {
					var err error
					if d, err = rollout.Restart(ctx, cs.AppsV1().Deployments(ns), args[0], f.Clock.Now()); err != nil {
						return lifecycle.StepOutcome{}, err
					}
					at := d.Spec.Template.Annotations[rollout.RestartedAtAnnotation]
					return lifecycle.StepOutcome{After: map[string]any{"restartedAt": at}, Detail: "restarted (restartedAt " + at + ")"}, nil
				})
			if err != nil {
				return err
			}
			at := d.Spec.Template.Annotations[rollout.RestartedAtAnnotation]
			if f.JSON() {
				return printJSON(f, map[string]any{"deployment": d.Name, "namespace": d.Namespace, "restartedAt": at, "verdict": "restarted"})
			}
			fmt.Fprintf(f.IO.Out, "%s: restarted (restartedAt %s); watch it with `rollback app status %s`\n", d.Name, at, d.Name)
			return nil
		},
	}
	rec.add(cmd)
	return cmd
}

func newAppMarkGoodCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "mark-good DEPLOYMENT",
		Short: "Stamp the current revision known-good (refused unless it is fully rolled out); run it from CI after a good deploy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			clients := rollout.NewClients(cs, ns)
			if err := rollout.MarkGood(ctxOf(cmd), clients, args[0], f.Clock.Now()); err != nil {
				return err
			}
			h := rollout.History{Clients: clients}
			res, err := h.Run(ctxOf(cmd), args[0])
			if err != nil {
				return err
			}
			if f.JSON() {
				return printJSON(f, map[string]any{"deployment": args[0], "namespace": res.Namespace, "revision": res.LastGood, "verdict": "marked-good", "at": f.Clock.Now().UTC().Format(time.RFC3339)})
			}
			fmt.Fprintf(f.IO.Out, "%s: revision %d stamped known-good\n", args[0], res.LastGood)
			return nil
		},
	}
}

func newAppResumeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "resume DEPLOYMENT",
		Short: "Un-pause a paused Deployment (undo refuses paused ones)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			changed, err := rollout.Resume(ctxOf(cmd), cs.AppsV1().Deployments(ns), args[0])
			if err != nil {
				return err
			}
			verdict := "resumed"
			if !changed {
				verdict = "skipped"
			}
			if f.JSON() {
				return printJSON(f, map[string]any{"deployment": args[0], "namespace": ns, "verdict": verdict})
			}
			if changed {
				fmt.Fprintf(f.IO.Out, "%s: resumed\n", args[0])
			} else {
				fmt.Fprintf(f.IO.Out, "%s: skipped, not paused\n", args[0])
			}
			return nil
		},
	}
}
