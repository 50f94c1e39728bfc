package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/configs"
)

// newConfigHistoryCmd returns "config history DEPLOYMENT".
func newConfigHistoryCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "history DEPLOYMENT",
		Short: "List the ConfigMaps and Secrets a Deployment uses, with their versions and snapshots",
		Example: `  rollback config history web -n shop
  rollback config history web -n shop -o json`,
		Args: configDeploymentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			h := configs.History{Deployments: cs.AppsV1().Deployments(ns), Store: configStore(cs, ns)}
			res, err := h.Run(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.JSON() {
				return configPrintJSON(f.IO.Out, res)
			}
			configs.WriteHistory(f.IO.Out, res)
			return nil
		},
	}
}
