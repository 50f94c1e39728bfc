package helmcmd

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/internal/command"
	"github.com/vibestack/rollback/pkg/helmrelease"
	"github.com/vibestack/rollback/pkg/helmtarget"
	"github.com/vibestack/rollback/pkg/rollout"
)

func newMarkGoodCmd(f *command.Factory) *cobra.Command {
	var verify func(*command.Factory) rollout.Verification
	cmd := &cobra.Command{
		Use:   "mark-good RELEASE",
		Short: "Verify the current revision of a release (every Deployment, StatefulSet and DaemonSet) and mark it known good; run it from CI after helm upgrade",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config(f)
			if err != nil {
				return err
			}
			u := &helmrelease.Undo{Config: cfg, Verification: verify(f), Observer: f.Observer()}
			res, err := u.MarkGood(command.ContextOf(cmd), args[0])
			if res != nil {
				if f.JSON() {
					if perr := command.PrintJSON(f, res); perr != nil {
						return perr
					}
				} else if res.Marked != "" {
					helmtarget.WriteMarkGood(f.IO.Out, res)
				}
			}
			return err
		},
	}
	verify = command.Verify(cmd)
	return cmd
}
