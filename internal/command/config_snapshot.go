package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/configs"
)

// newConfigSnapshotCmd returns "config snapshot DEPLOYMENT".
func newConfigSnapshotCmd(f *Factory) *cobra.Command {
	var keep int
	var reason string
	cmd := &cobra.Command{
		Use:   "snapshot DEPLOYMENT",
		Short: "Store an immutable copy of every ConfigMap and Secret a Deployment uses",
		Long: `Store an immutable copy of every ConfigMap and Secret a Deployment references,
in the same namespace (Secrets stay Secrets), labelled
rollback.vibestack.dev/snapshot-of=NAME. An object whose newest snapshot already
holds its contents is not copied again. Old snapshots beyond --keep are pruned.
Run it in CI before each deploy so that "rollback config undo" can restore.`,
		Example: `  rollback config snapshot web -n shop`,
		Args:    configDeploymentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			s := configs.Snapshot{
				Deployments: cs.AppsV1().Deployments(ns), Store: configStore(cs, ns),
				Clock: f.Clock, Keep: keep, Reason: reason,
			}
			res, err := s.Run(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if f.JSON() {
				return configPrintJSON(f.IO.Out, res)
			}
			configs.WriteSnapshots(f.IO.Out, res)
			return nil
		},
	}
	cmd.Flags().IntVar(&keep, "keep", configs.DefaultKeep, "snapshots to keep per object (older ones are deleted)")
	cmd.Flags().StringVar(&reason, "reason", "manual", "why the snapshot is taken, recorded on it (e.g. \"before deploy 1.4.2\")")
	return cmd
}
