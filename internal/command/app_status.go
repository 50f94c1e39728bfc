package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/rollout"
)

func newAppStatusCmd(f *Factory) *cobra.Command {
	var v verifyFlags
	cmd := &cobra.Command{
		Use:   "status WORKLOAD",
		Short: "Watch and verify an ongoing rollout; fail fast on crash loops; stamp it known-good when healthy",
		Long: `Watch and verify the ongoing rollout of a workload (deployment/web,
statefulset/db, daemonset/agent, or a bare NAME for a Deployment): fail fast on
crash loops, image pull errors and missing configuration in a pod of the new
revision; once every pod the update strategy rolls runs the revision and is
Ready, watch restarts over --settle and call each --check-url; stamp the
revision known-good when healthy. For a StatefulSet or DaemonSet it says what
the update strategy leaves behind: pods below a partition, pods an OnDelete
strategy has not replaced, a crash-looping pod an OrderedReady StatefulSet
waits for.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := workloadArg(args[0]); err != nil {
				return err
			}
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
