package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppHistoryCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "history DEPLOYMENT",
		Short: "List every revision with images, change-cause, replicas and health; mark the current and last known good",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
