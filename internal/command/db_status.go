package command

import (
	"github.com/spf13/cobra"

	"github.com/vibestack/rollback/pkg/dbrollback"
)

func newDBStatusCmd(f *Factory) *cobra.Command {
	var d dbFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the migration tool, current version, dirty flag, applied and pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := dbrollback.GetStatus(cmd.Context(), d.options())
			if err != nil {
				return err
			}
			if f.JSON() {
				return dbWriteJSON(f.IO.Out, st)
			}
			dbrollback.WriteStatus(f.IO.Out, st)
			return nil
		},
	}
	d.bind(cmd, true)
	return cmd
}
