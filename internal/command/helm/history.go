package helmcmd

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/helmtarget"
)

func newHistoryCmd(f *command.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "history RELEASE",
		Short: "Every revision of a release: status, chart, app version, description, rollback's health verdict and the last known good mark",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config(f)
			if err != nil {
				return err
			}
			res, err := helmrelease.History{Config: cfg}.Run(command.ContextOf(cmd), args[0])
			if err != nil {
				return err
			}
			if f.JSON() {
				return command.PrintJSON(f, res)
			}
			helmtarget.WriteHistory(f.IO.Out, res)
			return nil
		},
	}
}
