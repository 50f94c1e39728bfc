package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppStatusCmd(f *Factory) *cobra.Command {
	var v verifyFlags
	cmd := &cobra.Command{
		Use:   "status DEPLOYMENT",
		Short: "Watch and verify an ongoing rollout; fail fast on crash loops; stamp it known-good when healthy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, ns, err := appClients(f)
			if err != nil {
				return err
			}
			s := rollout.Status{Clients: rollout.NewClients(cs, ns), Verification: v.value(f), Observer: f.observer()}
			res, err := s.Run(ctxOf(cmd), args[0])
			if res != nil {
				if f.JSON() {
					if perr := printJSON(f, res); perr != nil {
						return perr
					}
				} else {
					rollout.WriteStatusResult(f.IO.Out, res)
				}
			}
			return err
		},
	}
	v.add(cmd)
	return cmd
}
