package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

func newDBPlanCmd(f *Factory) *cobra.Command {
	var d dbFlags
	var r dbRequestFlags
	cmd := &cobra.Command{
		Use:   "plan --steps N | --to VERSION",
		Short: "Show the migrations an undo would revert, their down SQL and the statements that destroy data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := dbrollback.MakePlan(cmd.Context(), d.options(), r.request(cmd))
			if err != nil {
				return err
			}
			if f.JSON() {
				return dbWriteJSON(f.IO.Out, p)
			}
			dbrollback.WritePlan(f.IO.Out, p)
			return nil
		},
	}
	d.bind(cmd, true)
	r.bind(cmd)
	return cmd
}
