package command

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/lifecycle"
	"github.com/vibestack/rollback/pkg/progress"
	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppRestartCmd(f *Factory) *cobra.Command {
	var rec recordFlags
	cmd := &cobra.Command{
		Use:   "restart WORKLOAD",
		Short: "Roll every pod (restartedAt with nanoseconds: two restarts within a second both take effect)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := workloadArg(args[0])
			if err != nil {
				return err
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			clients := rollout.NewClients(cs, ns)
			var info *rollout.WorkloadInfo
			step := rec.oneStep(f, cmd, w.Name, "app", w.String(), cs.CoreV1().ConfigMaps(ns), nil, workloadLock(cs, ns, w))
			step.Evidence = workloadEvidence(clients, ns, w, 0)
			step.Check = func(ctx context.Context) error {
				if err := mayPatch(ctx, cs, ns, "apps", w.Kind.Resource(), w.Name); err != nil {
					return err
				}
				return rollout.CheckRestartWorkload(ctx, clients, w.String())
			}
			_, err = step.Run(ctxOf(cmd),
				func(ctx context.Context, _ progress.Observer) (lifecycle.StepOutcome, error) {
					var err error
					if info, err = rollout.RestartWorkload(ctx, clients, w.String(), f.Clock.Now()); err != nil {
						return lifecycle.StepOutcome{}, err
					}
					at := info.Template.Annotations[rollout.RestartedAtAnnotation]
					return lifecycle.StepOutcome{After: map[string]any{"restartedAt": at}, Detail: "restarted (restartedAt " + at + ")"}, nil
				})
			if err != nil {
				return err
			}
			at := info.Template.Annotations[rollout.RestartedAtAnnotation]
			if f.JSON() {
				return printJSON(f, workloadJSON(w, map[string]any{"namespace": info.Namespace, "restartedAt": at, "verdict": "restarted"}))
			}
			fmt.Fprintf(f.IO.Out, "%s: restarted (restartedAt %s); watch it with `rollback app status %s`\n", w.Arg(), at, w.Arg())
			return nil
		},
	}
	rec.add(cmd)
	rec.evidence.add(cmd)
	return cmd
}

func newAppMarkGoodCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "mark-good WORKLOAD",
		Short: "Stamp the current revision known-good (refused unless it is fully rolled out); run it from CI after a good deploy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := workloadArg(args[0])
			if err != nil {
				return err
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			clients := rollout.NewClients(cs, ns)
			if err := rollout.MarkGood(ctxOf(cmd), clients, w.String(), f.Clock.Now()); err != nil {
				return err
			}
			h := rollout.History{Clients: clients}
			res, err := h.Run(ctxOf(cmd), w.String())
			if err != nil {
				return err
			}
			if f.JSON() {
				return printJSON(f, workloadJSON(w, map[string]any{"namespace": res.Namespace, "revision": res.LastGood, "verdict": "marked-good", "at": f.Clock.Now().UTC().Format(time.RFC3339)}))
			}
			fmt.Fprintf(f.IO.Out, "%s: revision %d stamped known-good\n", w.Arg(), res.LastGood)
			return nil
		},
	}
}

func newAppResumeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "resume DEPLOYMENT",
		Short: "Un-pause a paused Deployment (undo refuses paused ones; StatefulSets and DaemonSets do not pause)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := workloadArg(args[0])
			if err != nil {
				return err
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			changed, err := rollout.ResumeWorkload(ctxOf(cmd), rollout.NewClients(cs, ns), w.String())
			if err != nil {
				return err
			}
			verdict := "resumed"
			if !changed {
				verdict = "skipped"
			}
			if f.JSON() {
				return printJSON(f, workloadJSON(w, map[string]any{"namespace": ns, "verdict": verdict}))
			}
			if changed {
				fmt.Fprintf(f.IO.Out, "%s: resumed\n", w.Name)
			} else {
				fmt.Fprintf(f.IO.Out, "%s: skipped, not paused\n", w.Name)
			}
			return nil
		},
	}
}
