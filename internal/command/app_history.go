package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppHistoryCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "history WORKLOAD",
		Short: "List every revision with images, change-cause, replicas and health; mark the current and last known good",
		Long: `List every revision of a workload (deployment/web, statefulset/db,
daemonset/agent, or a bare NAME for a Deployment), read from its ReplicaSets or
ControllerRevisions, with images, change-cause, replicas, health verdict and the
known-good mark; notes say what the update strategy leaves behind.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := workloadArg(args[0]); err != nil {
				return err
			}
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			h := rollout.History{Clients: rollout.NewClients(cs, ns)}
			res, err := h.Run(ctxOf(cmd), args[0])
			if err != nil {
				return err
			}
			if f.JSON() {
				return printJSON(f, res)
			}
			rollout.WriteHistory(f.IO.Out, res)
			return nil
		},
	}
}
